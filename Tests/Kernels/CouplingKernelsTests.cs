using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

/// <summary>
/// The coupling kernels against float64 references on odd lengths (a scalar tail, several parallel blocks): the affine
/// scale-shift, its inverse and backward; rounding to a fixed-point grid and the exact additive and affine couplings, whose
/// inverses must give back every input bit and every information word, and whose overflow flags must catch every value
/// they cannot hold. Run on the ILGPU kernels here and on the host kernels at every SIMD level (<see cref="CouplingKernelsOnHostTests"/>).
/// </summary>
public class CouplingKernelsTests : KernelTestBase
{
    static readonly int[] Lengths = [1, 37, 2 * ElementwiseHost.Block + 21];

    static readonly FixedPointFormat Format = FixedPointFormat.Default;

    static double Scale(double s) => 1 / (1 + Math.Exp(-(s + 2)));

    MemoryBuffer1D<int, Stride1D.Dense> Flag(int value = 0) => Accelerator.Allocate1D(new[] { value });

    int Read(MemoryBuffer1D<int, Stride1D.Dense> flag)
    {
        Accelerator.Synchronize();
        return flag.GetAsArray1D()[0];
    }

    /// <summary>Values on the default grid (multiples of 2^-16) spread over ±<paramref name="magnitude"/>.</summary>
    float[] OnGrid(int length, float magnitude) =>
        RandomArray(length, magnitude).Select(v => MathF.Round(v * Format.Scale) * Format.Step).ToArray();

    [TestCaseSource(nameof(Lengths))]
    public void ScaleShift_InverseAndBackward_MatchFloat64(int length)
    {
        var x = RandomArray(length, 3f);
        var s = RandomArray(length, 6f);
        var t = RandomArray(length);
        var gy = RandomArray(length);
        using var dx = Upload(x);
        using var ds = Upload(s);
        using var dt = Upload(t);
        using var dgy = Upload(gy);
        using var dy = Poisoned(length);
        K.Coupling.ScaleShift(dx.View, ds.View, dt.View, dy.View);
        AssertClose(Download(dy), x.Select((v, i) => v * Scale(s[i]) + t[i]).ToArray(), 1e-6, "y = x·sigmoid(s + 2) + t");
        using var rebuilt = Poisoned(length);
        K.Coupling.UnscaleShift(dy.View, ds.View, dt.View, rebuilt.View);
        AssertClose(Download(rebuilt), FiniteDifference.ToDouble(x), 1e-5, "x = (y − t) / sigmoid(s + 2), float32 rounding apart (scales down to sigmoid(−4))");
        using var dgx = Poisoned(length);
        using var dgs = Poisoned(length);
        K.Coupling.ScaleShiftBackward(dx.View, ds.View, dgy.View, dgx.View, dgs.View);
        AssertClose(Download(dgx), gy.Select((g, i) => g * Scale(s[i])).ToArray(), 1e-6, "gx = gy·scale");
        AssertClose(Download(dgs), gy.Select((g, i) => g * x[i] * Scale(s[i]) * (1 - Scale(s[i]))).ToArray(), 1e-6, "gs = gy·x·scale·(1 − scale), 1 − scale not cancelled");
    }

    [TestCaseSource(nameof(Lengths))]
    public void Round_IsFloorOfHalfUp_OnTheGrid_AndFlagsOnlyValuesOutOfRange(int length)
    {
        var x = RandomArray(length, 200f);
        using var dx = Upload(x);
        using var dy = Poisoned(length);
        using var flag = Flag();
        K.Coupling.Round(Format, dx.View, dy.View, flag.View);
        var y = Download(dy);
        for (int i = 0; i < length; i++)
            Assert.That(y[i], Is.EqualTo((float)(Math.Floor((double)x[i] * 65536 + 0.5) / 65536)), $"round({x[i]:R})");
        Assert.That(Read(flag), Is.Zero, "every value lies within ±256");

        x[length / 2] = length % 2 == 0 ? float.NaN : 256.5f;
        using var bad = Upload(x);
        K.Coupling.Round(Format, bad.View, bad.View, flag.View);
        Assert.That(Read(flag), Is.EqualTo(ExactScaleShift.OutOfRange), "one value beyond ±256 (or NaN) sets the flag, in place too");
        K.Coupling.Round(Format, dx.View, dy.View, flag.View);
        Assert.That(Read(flag), Is.EqualTo(ExactScaleShift.OutOfRange), "a later clean call does not clear it: one flag collects a whole forward");
    }

    [TestCaseSource(nameof(Lengths))]
    public void AddRounded_IsExactIntegerAddition_AndSubtractRoundedUndoesItBitForBit(int length)
    {
        var x = OnGrid(length, 100f);
        var f = RandomArray(length, 50f);
        using var dx = Upload(x);
        using var df = Upload(f);
        using var dy = Poisoned(length);
        using var flag = Flag();
        K.Coupling.AddRounded(Format, dx.View, df.View, dy.View, flag.View);
        var y = Download(dy);
        for (int i = 0; i < length; i++)
            Assert.That(y[i], Is.EqualTo((float)(x[i] + Math.Floor((double)f[i] * 65536 + 0.5) / 65536)), "no rounding: the exact sum");
        Assert.That(Read(flag), Is.Zero);
        K.Coupling.SubtractRounded(Format, dy.View, df.View, dy.View);
        Assert.That(Download(dy), Is.EqualTo(x), "x = y − round(f) in place gives back every bit of x");

        x[0] = 250f;
        f[0] = 7f;
        using var over = Upload(x);
        using var dover = Upload(f);
        K.Coupling.AddRounded(Format, over.View, dover.View, over.View, flag.View);
        Assert.That(Read(flag), Is.EqualTo(ExactScaleShift.OutOfRange), "250 + 7 leaves ±256");
    }

    [TestCaseSource(nameof(Lengths))]
    public void ExactScaleShift_IsAffineWithinOneStep_AndItsInverseGivesBackEveryBitAndInformationWord(int length)
    {
        var x = OnGrid(length, 100f);
        var s = RandomArray(length, 5f);
        s[0] = -40f; // scale 2^-8 at most: the bits of a full push
        var t = RandomArray(length, 20f);
        var information = Enumerable.Range(0, length).Select(i => i % 3 == 0 ? 0UL : (ulong)Rng.NextInt64(0, 1L << 40)).ToArray();
        using var dx = Upload(x);
        using var ds = Upload(s);
        using var dt = Upload(t);
        using var words = Accelerator.Allocate1D(information);
        using var dy = Poisoned(length);
        using var flag = Flag();
        K.Coupling.ExactScaleShiftForward(Format, dx.View, ds.View, dt.View, words.View, dy.View, flag.View);
        var y = Download(dy);
        Accelerator.Synchronize();
        var pushed = words.GetAsArray1D();
        Assert.That(Read(flag), Is.Zero);
        for (int i = 0; i < length; i++)
        {
            double n = Math.Max(1, Math.Floor(Scale(s[i]) * 256 + 0.5)), shift = Math.Floor((double)t[i] * 65536 + 0.5) / 65536;
            if (Scale(s[i]) * 256 >= 0.5) Assert.That(Math.Abs(n / 256 - Scale(s[i])), Is.LessThanOrEqualTo(1.0 / 512 + 1e-7), "the scale is quantised to 1/256");
            Assert.That(y[i] * 65536 % 1, Is.Zero, "y lies on the grid");
            Assert.That(Math.Abs(y[i] - (x[i] * n / 256 + shift)), Is.LessThan(Format.Step), $"y = x·n/256 + round(t) within one step, element {i}");
            double growth = Math.Log2(Math.Max(pushed[i], 1)) - Math.Log2(Math.Max(information[i], 1));
            if (information[i] > 1 << 20) Assert.That(growth, Is.EqualTo(Math.Log2(256 / n)).Within(1e-3), "the buffer grows by log2(256/n) bits");
        }
        K.Coupling.ExactScaleShiftInverse(Format, dy.View, ds.View, dt.View, words.View, dy.View);
        Assert.That(Download(dy), Is.EqualTo(x), "the inverse, in place, gives back every bit of x");
        Assert.That(words.GetAsArray1D(), Is.EqualTo(information), "and pops exactly what the forward pushed");
    }

    [Test]
    public void ExactScaleShift_FlagsAFullInformationBuffer_AndAValueOutOfRange()
    {
        using var dx = Upload([1f, 250f]);
        using var ds = Upload([-40f, 40f]); // scale 1/256 (n = 1, a full 8-bit push), then scale 1
        using var dt = Upload([0f, 10f]);
        using var words = Accelerator.Allocate1D(new[] { 1UL << 56, 0UL });
        using var dy = Poisoned(2);
        using var flag = Flag();
        K.Coupling.ExactScaleShiftForward(Format, dx.View.SubView(0, 1), ds.View.SubView(0, 1), dt.View.SubView(0, 1), words.View.SubView(0, 1), dy.View.SubView(0, 1), flag.View);
        Assert.That(Read(flag), Is.EqualTo(ExactScaleShift.BufferFull), "a push onto a buffer holding 56 bits would drop its top bits");
        using var other = Flag();
        K.Coupling.ExactScaleShiftForward(Format, dx.View.SubView(1, 1), ds.View.SubView(1, 1), dt.View.SubView(1, 1), words.View.SubView(1, 1), dy.View.SubView(1, 1), other.View);
        Assert.That(Read(other), Is.EqualTo(ExactScaleShift.OutOfRange), "250 + 10 leaves ±256");
    }

    [Test]
    public void MismatchedLengths_ThrowWithOpAndSizes()
    {
        using var a = Upload(RandomArray(6));
        using var b = Upload(RandomArray(5));
        using var flag = Flag();
        var ex = Assert.Throws<ArgumentException>(() => K.Coupling.ScaleShift(a.View, b.View, a.View, a.View));
        Assert.That(ex!.Message, Does.Contain("scale shift").And.Contain("6").And.Contain("5"));
        ex = Assert.Throws<ArgumentException>(() => K.Coupling.AddRounded(Format, a.View, b.View, a.View, flag.View));
        Assert.That(ex!.Message, Does.Contain("add rounded").And.Contain("6").And.Contain("5"));
        using var words = Accelerator.Allocate1D<ulong>(5);
        ex = Assert.Throws<ArgumentException>(() => K.Coupling.ExactScaleShiftForward(Format, a.View, a.View, a.View, words.View, a.View, flag.View));
        Assert.That(ex!.Message, Does.Contain("information").And.Contain("6").And.Contain("5"));
    }
}

[TestFixtureSource(typeof(HostSimd), nameof(HostSimd.Supported))]
public class CouplingKernelsOnHostTests(SimdLevel level) : CouplingKernelsTests
{
    protected override bool HostKernels => true;

    protected override SimdLevel? HostLevel => level;
}

/// <summary>
/// The coupling kernels give the same bits on the host backend, at every SIMD level and thread count, as on the ILGPU
/// kernels: both run the one shared arithmetic. This is what lets `cpu` and `ilgpu-cpu` agree on exact reconstruction.
/// </summary>
public class CouplingHostMatchesIlgpuTests : KernelTestBase
{
    KernelSet Host = null!;

    [OneTimeSetUp]
    public void CreateHostKernels() => Host = new HostBackend(Accelerator).Kernels;

    /// <summary>Every output of every coupling op on one backend, as raw bits (floats, flags and information words alike).</summary>
    uint[][] RunAll(KernelSet k, float[] x, float[] s, float[] t, ulong[] information)
    {
        var format = FixedPointFormat.Default;
        using var dx = Upload(x);
        using var ds = Upload(s);
        using var dt = Upload(t);
        using var grid = Poisoned(x.Length);
        using var y = Poisoned(x.Length);
        using var gx = Poisoned(x.Length);
        using var gs = Poisoned(x.Length);
        using var words = Accelerator.Allocate1D(information);
        using var flag = Accelerator.Allocate1D(new int[1]);
        var outputs = new List<uint[]>();
        void Take<T>(MemoryBuffer1D<T, Stride1D.Dense> b) where T : unmanaged
        {
            Accelerator.Synchronize();
            outputs.Add(System.Runtime.InteropServices.MemoryMarshal.Cast<T, uint>(b.GetAsArray1D()).ToArray());
        }
        k.Coupling.ScaleShift(dx.View, ds.View, dt.View, y.View);
        Take(y);
        k.Coupling.UnscaleShift(dx.View, ds.View, dt.View, y.View);
        Take(y);
        k.Coupling.ScaleShiftBackward(dx.View, ds.View, dt.View, gx.View, gs.View);
        Take(gx);
        Take(gs);
        k.Coupling.Round(format, dx.View, grid.View, flag.View);
        Take(grid);
        k.Coupling.AddRounded(format, grid.View, ds.View, y.View, flag.View);
        Take(y);
        k.Coupling.SubtractRounded(format, y.View, ds.View, y.View);
        Take(y);
        k.Coupling.ExactScaleShiftForward(format, grid.View, ds.View, dt.View, words.View, y.View, flag.View);
        Take(y);
        Take(words);
        Take(flag);
        k.Coupling.ExactScaleShiftInverse(format, y.View, ds.View, dt.View, words.View, y.View);
        Take(y);
        Take(words);
        return outputs.ToArray();
    }

    [TestCase(1)]
    [TestCase(37)]
    [TestCase(2 * ElementwiseHost.Block + 21)]
    public void EveryCouplingOp_GivesTheSameBitsOnHostAsOnIlgpu(int length)
    {
        var x = RandomArray(length, 300f); // some beyond ±256: the flag is set alike
        var s = RandomArray(length, 12f);
        var t = RandomArray(length, 3f);
        s[0] = float.NaN;
        var information = Enumerable.Range(0, length).Select(i => (ulong)Rng.NextInt64(0, 1L << 50)).ToArray();
        var reference = RunAll(K, x, s, t, information);
        var (levelBefore, threadsBefore) = (HostSimd.Active, HostThreads.Count);
        try
        {
            foreach (var level in HostSimd.Supported)
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    (HostSimd.Active, HostThreads.Count) = (level, threads);
                    var host = RunAll(Host, x, s, t, information);
                    for (int i = 0; i < reference.Length; i++)
                        Assert.That(host[i], Is.EqualTo(reference[i]), $"output {i} at {level} on {threads} thread(s): the same bits as ILGPU");
                }
        }
        finally
        {
            (HostSimd.Active, HostThreads.Count) = (levelBefore, threadsBefore);
        }
    }
}
