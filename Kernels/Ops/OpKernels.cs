using System.Runtime.CompilerServices;

namespace RevNetIlgpu.Kernels;

/// <summary>
/// The base of every op group's contract (<see cref="Conv2dKernels"/>, <see cref="BatchNormKernels"/>, ...). A contract's
/// public methods check their arguments once, for every form, then call the backend's form through a protected
/// <c>...Core</c> method; this base counts those calls in the backend's <see cref="KernelCalls"/>.
/// </summary>
public abstract class OpKernels
{
    readonly KernelCalls calls;
    readonly string contract;

    /// <summary>A contract whose calls are counted in <paramref name="calls"/>, its backend's counter.</summary>
    protected OpKernels(KernelCalls calls)
    {
        this.calls = calls;
        var type = GetType();
        while (type.BaseType != typeof(OpKernels)) type = type.BaseType!;
        contract = type.Name;
    }

    /// <summary>Counts (and, while profiling, times) the call of <paramref name="method"/>; the compiler fills it in.</summary>
    protected void Enter([CallerMemberName] string method = "") => calls.Enter(contract, method);
}
