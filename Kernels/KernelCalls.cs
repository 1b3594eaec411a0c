namespace RevNetIlgpu.Kernels;

/// <summary>
/// Counts the op calls a backend's contracts receive and, while <see cref="Profile"/> is set, charges each its wall
/// time (<see cref="KernelCallProfile"/>). Entry points are named "Contract.Method", e.g. "Conv2dKernels.Forward".
/// </summary>
public sealed class KernelCalls
{
    long count;

    /// <summary>Op calls so far (an op that calls another op counts both).</summary>
    public long Count => Interlocked.Read(ref count);

    /// <summary>When set, every call is timed into it: for `revnet bench step --profile`, not for training.</summary>
    public KernelCallProfile? Profile { get; set; }

    /// <summary>When set, every call's entry point is appended to it in order: a host step's launch list for `revnet bench step --json`.</summary>
    public List<string>? Log { get; set; }

    internal void Enter(string contract, string method)
    {
        Interlocked.Increment(ref count);
        Profile?.Enter($"{contract}.{method}");
        Log?.Add($"{contract}.{method}");
    }
}
