using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Engine;

/// <summary>
/// One accelerator (or the meta device), its caching allocator, its loaded kernels and the tape ops record on.
/// Selection order: CUDA, then OpenCL, then the CPU (host kernels); overridden by a name or by the
/// REVNET_DEVICE environment variable.
/// </summary>
public sealed class Device : IDisposable
{
    public const string EnvironmentVariable = "REVNET_DEVICE";

    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "ilgpu-cpu", "cuda", "opencl", "meta"];

    readonly Context? context;
    readonly Stack<Tape> tapes = new();

    Device(DeviceKind kind, string name, Context? context, Accelerator? accelerator, long? memoryLimitBytes)
    {
        Kind = kind;
        Name = name;
        this.context = context;
        Accelerator = accelerator;
        Kernels = accelerator is null ? null : new KernelContext(accelerator, isHost: kind == DeviceKind.Cpu);
        long? deviceMemory = accelerator is null || kind is DeviceKind.Cpu or DeviceKind.IlgpuCpu ? null : accelerator.MemorySize;
        Allocator = new CachingAllocator(this, memoryLimitBytes ?? deviceMemory);
        tapes.Push(new Tape());
    }

    public DeviceKind Kind { get; }

    /// <summary>Human-readable device name, e.g. "CUDA: NVIDIA H200" or "meta (counts memory, runs no kernels)".</summary>
    public string Name { get; }

    public Accelerator? Accelerator { get; }

    /// <summary>Kernel loading and launch shapes; null on the meta device.</summary>
    public KernelContext? Kernels { get; }

    public CachingAllocator Allocator { get; }

    public bool IsMeta => Kind == DeviceKind.Meta;

    /// <summary>True on `cpu`: tensors are host memory and ops run the SIMD host kernels, never an ILGPU kernel.</summary>
    public bool IsHost => Kernels?.IsHost == true;

    /// <summary>Debugging aid: every op's output is checked for NaN/Inf as it is made (slow: one host read per op).</summary>
    public bool CheckEveryOp { get; set; }

    /// <summary>Throws <see cref="NonFiniteException"/> naming <paramref name="what"/> if <paramref name="t"/> holds NaN or Inf.</summary>
    public void ThrowIfNonFinite(Tensor t, string what)
    {
        if (IsMeta) return;
        using var count = Tensor.Empty(this, 1);
        ElementwiseKernels.CountNonFinite(K, t.View, count.IntView);
        int bad = count.ToIntArray()[0];
        if (bad > 0) throw new NonFiniteException($"{what} {t.ShapeString} has {bad} NaN/Inf value(s)");
    }

    /// <summary>The tape ops record on now (the innermost one pushed).</summary>
    public Tape Tape => tapes.Peek();

    /// <summary>Makes <paramref name="tape"/> the current tape until the returned scope is disposed.</summary>
    public IDisposable UseTape(Tape tape)
    {
        tapes.Push(tape);
        return new Scope(() => tapes.Pop());
    }

    /// <summary>
    /// Raised by every conv2d forward with its shape, on every device including meta: how tools list the convolutions a
    /// model runs (e.g. to time each of them) without knowing its architecture.
    /// </summary>
    public event Action<Conv2dShape>? Conv2dForward;

    internal void OnConv2dForward(Conv2dShape shape) => Conv2dForward?.Invoke(shape);

    /// <summary>Kernels, or an explanation of why there are none (the meta device launches nothing).</summary>
    public KernelContext K => Kernels ?? throw new InvalidOperationException("the meta device runs no kernels");

    /// <summary>Waits for queued kernels; host kernels finish before they return, so on `cpu` there is nothing to wait for.</summary>
    public void Synchronize()
    {
        if (!IsHost) Accelerator?.Synchronize();
    }

    /// <summary>
    /// Creates a device from a name (<see cref="Names"/>): auto (default: CUDA, then OpenCL, then cpu), cpu (SIMD host kernels),
    /// ilgpu-cpu (ILGPU kernels on its CPU accelerator), cuda, opencl or meta. With no name, REVNET_DEVICE decides, else auto.
    /// <paramref name="memoryLimitBytes"/> caps the allocator (for planning and tests).
    /// </summary>
    public static Device Create(string? name = null, long? memoryLimitBytes = null)
    {
        name = (name ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? "auto").Trim().ToLowerInvariant();
        if (name == "meta")
            return new Device(DeviceKind.Meta, "meta (counts memory, runs no kernels)", null, null, memoryLimitBytes);
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown device '{name}': expected {string.Join(", ", Names)}");

        NativeLibraryFallback.Install();
        var context = Context.Create(b =>
        {
            b.EnableAlgorithms();
            if (name is "auto" or "cpu" or "ilgpu-cpu") b.CPU();
            if (name is "auto" or "cuda") b.Cuda();
            if (name is "auto" or "opencl") b.OpenCL();
        });
        try
        {
            var (kind, device) = Pick(context, name);
            var accelerator = device.CreateAccelerator(context);
            string description = kind switch
            {
                DeviceKind.Cpu => $"cpu: SIMD host kernels, {HostThreads.Count} threads",
                DeviceKind.IlgpuCpu => $"ilgpu-cpu: ILGPU kernels on {accelerator.Name}",
                _ => $"{kind}: {accelerator.Name}",
            };
            return new Device(kind, description, context, accelerator, memoryLimitBytes);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    static (DeviceKind, ILGPU.Runtime.Device) Pick(Context context, string name)
    {
        var cuda = context.GetCudaDevices();
        var opencl = context.GetCLDevices();
        if (name is "auto" or "cuda" && cuda.Count > 0) return (DeviceKind.Cuda, cuda[0]);
        if (name is "auto" or "opencl" && opencl.Count > 0) return (DeviceKind.OpenCL, opencl[0]);
        if (name is "auto" or "cpu") return (DeviceKind.Cpu, context.GetCPUDevice(0));
        if (name is "ilgpu-cpu") return (DeviceKind.IlgpuCpu, context.GetCPUDevice(0));
        throw new InvalidOperationException($"no {name} device found (is the driver installed?); use --device cpu");
    }

    public void Dispose()
    {
        Allocator.Dispose();
        Accelerator?.Dispose();
        context?.Dispose();
    }

    sealed class Scope(Action onDispose) : IDisposable
    {
        public void Dispose() => onDispose();
    }

    /// <summary>
    /// ILGPU P/Invokes "cuda" and "OpenCL"; on Linux the drivers install only libcuda.so.1 / libOpenCL.so.1
    /// unless development packages are present, so without this fallback a real GPU is silently not found.
    /// </summary>
    static class NativeLibraryFallback
    {
        static int installed;

        public static void Install()
        {
            if (Interlocked.Exchange(ref installed, 1) == 1) return;
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
        }

        static IntPtr Resolve(Assembly assembly, string library)
        {
            string[] candidates = library.ToLowerInvariant() switch
            {
                "cuda" or "nvcuda" or "libcuda" or "libcuda.so" => ["libcuda.so.1"],
                "opencl" or "libopencl" or "libopencl.so" => ["libOpenCL.so.1"],
                _ => [],
            };
            foreach (var candidate in candidates)
                if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
            return IntPtr.Zero;
        }
    }
}
