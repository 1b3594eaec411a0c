using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Kernels.Ilgpu;

namespace RevNetIlgpu.Tests.Support;

/// <summary>
/// Base for kernel tests: one CPU accelerator for the fixture, random inputs, poisoned outputs
/// (so an element a kernel forgot to write fails the comparison) and relative-error checks. <see cref="K"/> is the ILGPU
/// backend's kernel set, or the host backend's (Kernels/Host) in a subclass that overrides <see cref="HostKernels"/>: the
/// same tests then hold both forms to the same references through the same contracts.
/// </summary>
public abstract class KernelTestBase
{
    /// <summary>True: <see cref="K"/> is the host backend's (SIMD C#) kernel set, as on `--device cpu`.</summary>
    protected virtual bool HostKernels => false;

    /// <summary>The SIMD level the host kernels run at in this fixture; null: the process's (the widest there is).</summary>
    protected virtual SimdLevel? HostLevel => null;

    SimdLevel levelBefore;

    protected Context Context = null!;
    protected Accelerator Accelerator = null!;
    protected Backend Backend = null!;
    protected KernelSet K = null!;

    /// <summary>The ILGPU backend's launch settings, for tests of ILGPU machinery (tiled or reference kernels, GEMM tilings).</summary>
    protected KernelContext Ilgpu => (Backend as IlgpuBackend)?.Context ?? throw new InvalidOperationException("an ILGPU-only test ran on the host backend");
    protected Random Rng = null!;

    /// <summary>NaN: any output element left unwritten makes the comparison fail.</summary>
    protected const float Poison = float.NaN;

    [OneTimeSetUp]
    public void CreateAccelerator()
    {
        ThrowingTraceListener.Install();
        Context = Context.Create(b => b.CPU().EnableAlgorithms());
        Accelerator = Context.CreateCPUAccelerator(0);
        (Backend, K) = HostKernels ? KernelsOf(new HostBackend(Accelerator)) : KernelsOf(new IlgpuBackend("ilgpu-cpu", Accelerator));
        levelBefore = HostSimd.Active;
        if (HostLevel is { } level) HostSimd.Active = level;
    }

    static (Backend, KernelSet) KernelsOf(HostBackend backend) => (backend, backend.Kernels);

    static (Backend, KernelSet) KernelsOf(IlgpuBackend backend) => (backend, backend.Kernels);

    [OneTimeTearDown]
    public void DisposeAccelerator()
    {
        HostSimd.Active = levelBefore;
        Backend.Dispose();
        Context.Dispose();
    }

    [SetUp]
    public void Seed() => Rng = new Random(1234);

    protected float[] RandomArray(int length, float scale = 1f)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)(Rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    protected MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] data) => Accelerator.Allocate1D(data);

    protected MemoryBuffer1D<float, Stride1D.Dense> Poisoned(int length)
    {
        var buffer = Accelerator.Allocate1D<float>(length);
        buffer.MemSet(0xFF); // all-ones bit pattern is a NaN
        return buffer;
    }

    protected float[] Download(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        Accelerator.Synchronize();
        return buffer.GetAsArray1D();
    }

    /// <summary>max|actual - expected| / max(max|expected|, tiny): the error measure the golden manifests use.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), "length");
        double maxRef = 1e-30, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity;
            maxDiff = Math.Max(maxDiff, d);
        }
        return maxDiff / maxRef;
    }

    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        return RelativeError(actual, e);
    }

    protected static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tolerance, string what)
    {
        double err = RelativeError(actual, expected);
        Assert.That(err, Is.LessThanOrEqualTo(tolerance), $"{what}: relative error {err:E3} exceeds {tolerance:E1}");
    }
}

/// <summary>
/// ILGPU's CPU accelerator reports an out-of-range view index through Debug.Assert, which by default
/// terminates the test host; this listener turns it into an exception the test can report.
/// </summary>
public sealed class ThrowingTraceListener : TraceListener
{
    static int installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1) return;
        Trace.Listeners.Clear();
        Trace.Listeners.Add(new ThrowingTraceListener());
    }

    public override void Fail(string? message, string? detailMessage) =>
        throw new InvalidOperationException($"Assertion failed in a kernel: {message} {detailMessage}");

    public override void Write(string? message) { }

    public override void WriteLine(string? message) { }
}
