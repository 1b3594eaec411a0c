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
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.Kernels.Meta;

namespace RevNetIlgpu.Engine;

/// <summary>
/// Where tensors live and ops run: one <see cref="Kernels.Backend"/> (host SIMD kernels, ILGPU kernels, or meta), chosen
/// once here, its caching allocator and the tape ops record on. Selection order: CUDA, then OpenCL, then the CPU (host
/// kernels); overridden by a name or by the REVNET_DEVICE environment variable.
/// </summary>
public sealed class Device : IDisposable
{
    /// <summary>The environment variable that names the device when none is given: one of <see cref="Names"/>.</summary>
    public const string EnvironmentVariable = "REVNET_DEVICE";

    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "ilgpu-cpu", "cuda", "opencl", "meta"];

    readonly Context? context;
    readonly Stack<Tape> tapes = new();

    Device(DeviceKind kind, Backend backend, Context? context, long? memoryLimitBytes)
    {
        Kind = kind;
        Backend = backend;
        this.context = context;
        long? deviceMemory = kind is DeviceKind.Cuda or DeviceKind.OpenCL ? backend.Accelerator!.MemorySize : null;
        Allocator = new CachingAllocator(this, memoryLimitBytes ?? deviceMemory);
        tapes.Push(new Tape());
    }

    /// <summary>Which kind of device this is, chosen when it was created.</summary>
    public DeviceKind Kind { get; }

    /// <summary>What computes: the host kernels, the ILGPU kernels, or nothing (meta). Chosen when the device is created.</summary>
    public Backend Backend { get; }

    /// <summary>Human-readable device name, e.g. "cuda: NVIDIA H200" or "meta (counts memory, runs no kernels)".</summary>
    public string Name => Backend.Description;

    /// <summary>The accelerator whose buffers hold the tensors; null on the meta device.</summary>
    public Accelerator? Accelerator => Backend.Accelerator;

    /// <summary>The allocator every tensor on this device comes from; its counters are the memory figures the program prints.</summary>
    public CachingAllocator Allocator { get; }

    /// <summary>True on the meta device: tensors hold no data (reads give zeros) and ops compute nothing.</summary>
    public bool IsMeta => Kind == DeviceKind.Meta;

    /// <summary>
    /// Throws one line for the meta device, which holds no values and runs no kernels: for work that needs them (training,
    /// checks, timings). <paramref name="what"/> says what needs them, e.g. "gradcheck compares values".
    /// </summary>
    public void RequireValues(string what)
    {
        if (IsMeta) throw new ArgumentException($"{what}; the meta device holds no values and runs no kernels (use --device cpu, ilgpu-cpu, cuda or opencl)");
    }

    /// <summary>Runs <paramref name="ops"/> on the backend's kernels (not at all on the meta device).</summary>
    public void Run(Action<KernelSet> ops) => Backend.Run(ops);

    /// <summary>Debugging aid: every op's output is checked for NaN/Inf as it is made (slow: one host read per op).</summary>
    public bool CheckEveryOp { get; set; }

    /// <summary>Throws <see cref="NonFiniteException"/> naming <paramref name="what"/> if <paramref name="t"/> holds NaN or Inf.</summary>
    public void ThrowIfNonFinite(Tensor t, string what)
    {
        using var count = Tensor.Zeros(this, 1);
        Run(k => k.Elementwise.CountNonFinite(t.View, count.IntView));
        int bad = count.ToIntArray()[0];
        if (bad > 0) throw new NonFiniteException($"{what} {t.ShapeString} has {bad} NaN/Inf value(s)");
    }

    /// <summary>The tape ops record on now (the innermost one pushed).</summary>
    public Tape Tape => tapes.Peek();

    /// <summary>
    /// Until the returned scope is disposed, ops on this device record nothing for backward (as <c>torch.no_grad()</c>):
    /// inference, evaluation, bookkeeping. The scope restores whether the current tape recorded before.
    /// </summary>
    public IDisposable NoGradient()
    {
        var tape = Tape;
        bool was = tape.IsRecording;
        tape.IsRecording = false;
        return new Scope(() => tape.IsRecording = was);
    }

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

    /// <summary>Waits for queued kernels; host kernels finish before they return, so on `cpu` there is nothing to wait for.</summary>
    public void Synchronize() => Backend.Synchronize();

    /// <summary>
    /// Creates a device from a name (<see cref="Names"/>): auto (default: CUDA, then OpenCL, then cpu), cpu (SIMD host kernels),
    /// ilgpu-cpu (ILGPU kernels on its CPU accelerator), cuda, opencl or meta. With no name, REVNET_DEVICE decides, else auto.
    /// <paramref name="memoryLimitBytes"/> caps the allocator (for planning and tests). <paramref name="simd"/> selects the
    /// host kernels' level for the process (vector512, vector256 or scalar; else REVNET_SIMD's, else the widest there is).
    /// </summary>
    public static Device Create(string? name = null, long? memoryLimitBytes = null, string? simd = null)
    {
        if (simd is not null) HostSimd.Select(simd);
        name = (name ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? "auto").Trim().ToLowerInvariant();
        if (name == "meta")
            return new Device(DeviceKind.Meta, new MetaBackend(), null, memoryLimitBytes);
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
            Backend backend = kind switch
            {
                DeviceKind.Cpu => new HostBackend(accelerator),
                DeviceKind.IlgpuCpu => new IlgpuBackend("ilgpu-cpu", accelerator),
                DeviceKind.Cuda => new IlgpuBackend("cuda", accelerator),
                _ => new IlgpuBackend("opencl", accelerator),
            };
            return new Device(kind, backend, context, memoryLimitBytes);
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

    /// <summary>Returns cached memory, then disposes the backend and the ILGPU context. Tensors still held must not be used afterwards.</summary>
    public void Dispose()
    {
        Allocator.Dispose();
        Backend.Dispose();
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
