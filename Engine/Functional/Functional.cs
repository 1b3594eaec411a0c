using RevNetIlgpu.Kernels;

namespace RevNetIlgpu.Engine;

/// <summary>
/// Differentiable ops over <see cref="Tensor"/>s, one file per op with its forward and backward side by side
/// (named as in torch.nn.functional). Each allocates its output through the caching allocator, launches its
/// kernels through the device's backend (none on the meta device) and records on the device's current tape what its backward needs.
/// </summary>
public static partial class Functional
{
    /// <summary>Runs <paramref name="launch"/> on the device's backend (the meta backend, which only counts memory, runs nothing).</summary>
    static void Launch(Device device, Action<KernelSet> launch) => device.Run(launch);

    /// <summary>Runs <paramref name="op"/> with the device's tape not recording.</summary>
    public static T Unrecorded<T>(Device device, Func<T> op)
    {
        var tape = device.Tape;
        bool was = tape.IsRecording;
        tape.IsRecording = false;
        try
        {
            return op();
        }
        finally
        {
            tape.IsRecording = was;
        }
    }

    static void RequireRank(string op, string name, Tensor t, int rank)
    {
        if (t.Rank != rank)
            throw new ArgumentException($"{op}: {name} must have rank {rank}, got shape {t.ShapeString}");
    }

    static void RequireSameShape(string op, Tensor a, Tensor b)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new ArgumentException($"{op}: shapes must match, got {a.ShapeString} and {b.ShapeString}");
    }

    static void RequireSameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device) throw new ArgumentException($"{op}: tensors live on different devices ({a.Device.Name}, {b.Device.Name})");
    }

    /// <summary>(N, C, H*W) of an NCHW tensor.</summary>
    static (int N, int C, int HW) Nchw(Tensor t) => (t[0], t[1], t[2] * t[3]);
}
