using RevNetIlgpu.RevNet.Training;
using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>
/// Every host kernel against its ILGPU reference kernel on the same CPU accelerator, on random odd shapes (batch 1, 1x1 and
/// 7x7 maps, channel counts that are not a multiple of 16, lengths that leave a scalar tail and cross parallel blocks,
/// stride 2, padding 0 and 1, floor and ceil pooling), at every SIMD level this processor runs, and the host kernels' bits
/// repeated across runs and thread counts. Element-wise ops and the SGD update run one operator struct in both forms, so
/// there the two backends must agree bit for bit (tolerance 0); reductions sum in other orders.
/// </summary>
public class HostMatchesIlgpuTests : KernelTestBase
{
    /// <summary>Float32 sums in another order (lanes, then lanes summed): relative to the largest magnitude, ~1e-7·√terms.</summary>
    const double ReductionTolerance = 1e-5;

    /// <summary>Per-element batch-norm arithmetic: the same formula, the host form one fused multiply-add's rounding apart.</summary>
    const double ElementTolerance = 1e-6;

    /// <summary>Ops whose arithmetic is one operator struct run by both backends: the same bits.</summary>
    const double SameBits = 0;

    KernelSet Host = null!;

    /// <summary>One op applied to device buffers (its inputs and outputs, in the order given to <see cref="Run"/>).</summary>
    delegate void Op(KernelSet k, ArrayView<float>[] buffers);

    /// <summary>The host backend's kernels over the fixture's CPU accelerator (which the ILGPU backend owns and disposes).</summary>
    [OneTimeSetUp]
    public void CreateHostKernels() => Host = new HostBackend(Accelerator).Kernels;

    /// <summary>
    /// Uploads <paramref name="initial"/> (outputs a kernel overwrites start as NaN, so a skipped element fails), runs the op,
    /// and returns every buffer afterwards.
    /// </summary>
    float[][] Run(KernelSet k, float[][] initial, Op op)
    {
        var buffers = initial.Select(Upload).ToArray();
        try
        {
            op(k, buffers.Select(b => (ArrayView<float>)b.View).ToArray());
            return buffers.Select(Download).ToArray();
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    /// <summary>
    /// At every SIMD level: the host result against the ILGPU one, buffer by buffer (bit for bit when
    /// <paramref name="tolerance"/> is 0); then the host bits on 1, 2 and 3 threads, twice each.
    /// </summary>
    void AssertHostMatchesIlgpu(string what, float[][] initial, double tolerance, Op op)
    {
        var reference = Run(K, initial, op);
        var (levelBefore, threadsBefore) = (HostSimd.Active, HostThreads.Count);
        try
        {
            foreach (var level in HostSimd.Supported)
            {
                HostSimd.Active = level;
                HostThreads.Count = threadsBefore;
                var host = Run(Host, initial, op);
                for (int i = 0; i < initial.Length; i++)
                {
                    // NaN where the reference has NaN (ReLU of NaN, a bad label's loss), and close everywhere else.
                    Assert.That(host[i].Select(float.IsNaN), Is.EqualTo(reference[i].Select(float.IsNaN)), $"{what} at {level}, buffer {i}: NaN positions");
                    var finite = Enumerable.Range(0, host[i].Length).Where(j => !float.IsNaN(reference[i][j])).ToArray();
                    if (tolerance == SameBits)
                        Assert.That(finite.Select(j => host[i][j]), Is.EqualTo(finite.Select(j => reference[i][j])), $"{what} at {level}, buffer {i}: the same bits as ILGPU");
                    else
                        AssertClose(finite.Select(j => host[i][j]).ToArray(), finite.Select(j => (double)reference[i][j]).ToArray(), tolerance, $"{what} at {level}, buffer {i}");
                }
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    HostThreads.Count = threads;
                    for (int repeat = 0; repeat < 2; repeat++)
                    {
                        var again = Run(Host, initial, op);
                        for (int i = 0; i < initial.Length; i++)
                            Assert.That(again[i], Is.EqualTo(host[i]), $"{what} at {level}, buffer {i}: the same bits on {threads} thread(s), run {repeat + 1}");
                    }
                }
            }
        }
        finally
        {
            (HostSimd.Active, HostThreads.Count) = (levelBefore, threadsBefore);
        }
    }

    float[] Nan(long length) => Enumerable.Repeat(float.NaN, checked((int)length)).ToArray();

    float[] Random(long length) => RandomArray(checked((int)length));

    // Lengths: one element, a scalar tail only, a vector and a tail, and three parallel blocks (the last one short).
    static readonly int[] Lengths = [1, 7, 37, 2 * ElementwiseHost.Block + 21];

    [TestCaseSource(nameof(Lengths))]
    public void Elementwise(int length)
    {
        AssertHostMatchesIlgpu("add", [Random(length), Random(length), Nan(length)], 0, (k, b) => k.Elementwise.Add(b[0], b[1], b[2]));
        AssertHostMatchesIlgpu("subtract in place", [Random(length), Random(length)], 0, (k, b) => k.Elementwise.Subtract(b[0], b[1], b[0]));
        AssertHostMatchesIlgpu("multiply", [Random(length), Random(length), Nan(length)], 0, (k, b) => k.Elementwise.Multiply(b[0], b[1], b[2]));
        AssertHostMatchesIlgpu("axpy", [Random(length), Random(length)], SameBits, (k, b) => k.Elementwise.Axpy(-0.7f, b[0], b[1]));
        AssertHostMatchesIlgpu("scale in place", [Random(length)], 0, (k, b) => k.Elementwise.Scale(b[0], 1.3f, b[0]));
        AssertHostMatchesIlgpu("exp", [ExpInputs(length), Nan(length)], SameBits, (k, b) => k.Elementwise.Exp(b[0], b[1]));
        AssertHostMatchesIlgpu("copy", [Random(length), Nan(length)], 0, (k, b) => k.Elementwise.Copy(b[0], b[1]));
        AssertHostMatchesIlgpu("fill", [Nan(length)], 0, (k, b) => k.Elementwise.Fill(b[0], 2.5f));
    }

    /// <summary>Exp's inputs: ±100 (both ends out of range: 0 and +∞), NaN, and the rest across the range.</summary>
    float[] ExpInputs(int length)
    {
        var x = RandomArray(length, 90f);
        float[] edges = [-100f, 100f, float.NaN, 88.3f, -87.3f, 0f];
        for (int i = 0; i < Math.Min(edges.Length, length); i++) x[i] = edges[i];
        return x;
    }

    [TestCaseSource(nameof(Lengths))]
    public void CountNonFinite(int length)
    {
        var x = Random(length);
        for (int i = 0; i < length; i += 5) x[i] = (i / 5 % 3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        using var dx = Upload(x);
        using var ilgpuCount = Accelerator.Allocate1D(new[] { -1 });
        using var hostCount = Accelerator.Allocate1D(new[] { -1 });
        K.Elementwise.CountNonFinite(dx.View, ilgpuCount.View);
        Host.Elementwise.CountNonFinite(dx.View, hostCount.View);
        Accelerator.Synchronize();
        Assert.That(hostCount.GetAsArray1D()[0], Is.EqualTo((length + 4) / 5).And.EqualTo(ilgpuCount.GetAsArray1D()[0]));
    }

    [TestCaseSource(nameof(Lengths))]
    public void Relu(int length)
    {
        var x = Random(length);
        x[0] = float.NaN; // NaN stays NaN forward (a NaN check must still see it) and passes no gradient back
        AssertHostMatchesIlgpu("relu", [x, Nan(length)], 0, (k, b) => k.Elementwise.Map(new ReluOp(), b[0], b[1]));
        AssertHostMatchesIlgpu("relu backward in place", [x, Random(length)], 0, (k, b) => k.Elementwise.Zip(new ReluBackwardOp(), b[0], b[1], b[1]));
    }

    [TestCase(1, 3, 1)]
    [TestCase(2, 17, 49)]
    [TestCase(3, 33, 1)]
    [TestCase(1, 5, 63)]
    public void BatchNorm(int n, int c, int hw)
    {
        long size = (long)n * c * hw;
        var x = Random(size).Select(v => v + 3f).ToArray(); // an offset mean: the variance must be computed around it
        AssertHostMatchesIlgpu("batch stats", [x, Nan(c), Nan(c)], ReductionTolerance,
            (k, b) => k.BatchNorm.ComputeBatchStats(n, c, hw, b[0], b[1], b[2], 1e-5f));

        var (mean, invstd) = (Random(c), Random(c).Select(v => 1.5f + v).ToArray());
        AssertHostMatchesIlgpu("normalize in place", [x, mean, invstd, Random(c), Random(c)], ElementTolerance,
            (k, b) => k.BatchNorm.Normalize(n, c, hw, b[0], b[1], b[2], b[3], b[4], b[0]));
        AssertHostMatchesIlgpu("eval stats", [Random(c), Random(c).Select(v => v + 2f).ToArray(), Nan(c), Nan(c)], ElementTolerance,
            (k, b) => k.BatchNorm.EvalStats(c, b[0], b[1], 1e-5f, b[2], b[3]));
        if (n * hw >= 2)
            AssertHostMatchesIlgpu("running stats", [mean, invstd, Random(c), Random(c).Select(v => v + 2f).ToArray()], ElementTolerance,
                (k, b) => k.BatchNorm.UpdateRunningStats(c, n * hw, b[0], b[1], 1e-5f, 0.1f, b[2], b[3]));

        // Batch statistics of x itself, as in training, so the backward's projections are those of a real step.
        var stats = Run(K, [x, Nan(c), Nan(c)], (k, b) => k.BatchNorm.ComputeBatchStats(n, c, hw, b[0], b[1], b[2], 1e-5f));
        float[][] backward = [x, Random(size), stats[1], stats[2], Random(c), Nan(size), Random(c), Random(c)];
        AssertHostMatchesIlgpu("backward", backward, ReductionTolerance,
            (k, b) => k.BatchNorm.Backward(n, c, hw, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], batchStatistics: true));
        AssertHostMatchesIlgpu("backward eval", backward, ReductionTolerance,
            (k, b) => k.BatchNorm.Backward(n, c, hw, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], batchStatistics: false));
        AssertHostMatchesIlgpu("backward, gx in place of gy", backward, ReductionTolerance,
            (k, b) => k.BatchNorm.Backward(n, c, hw, b[0], b[1], b[2], b[3], b[4], b[1], b[6], b[7], batchStatistics: true));
    }

    [TestCase(1, 3, 7, 7, true)]
    [TestCase(1, 3, 7, 7, false)]
    [TestCase(2, 17, 8, 6, false)]
    [TestCase(3, 5, 2, 3, true)]
    public void AvgPool2x2(int n, int c, int h, int w, bool ceil)
    {
        var o = PoolKernels.AvgPool2x2OutputSize(h, w, ceil);
        long input = (long)n * c * h * w, output = (long)n * c * o.X * o.Y;
        AssertHostMatchesIlgpu("avg pool 2x2", [Random(input), Nan(output)], ElementTolerance,
            (k, b) => k.Pool.AvgPool2x2Forward(n, c, h, w, b[0], b[1], ceil));
        AssertHostMatchesIlgpu("avg pool 2x2 backward", [Random(output), Nan(input)], 0,
            (k, b) => k.Pool.AvgPool2x2Backward(n, c, h, w, b[0], b[1], ceil));
        int cOut = 2 * c + 1;
        long padded = (long)n * cOut * o.X * o.Y;
        AssertHostMatchesIlgpu("avg pool 2x2 + pad channels", [Random(input), Nan(padded)], ElementTolerance,
            (k, b) => k.Pool.AvgPool2x2PadChannelsForward(n, c, cOut, h, w, b[0], b[1], ceil));
        AssertHostMatchesIlgpu("avg pool 2x2 + pad channels backward", [Random(padded), Nan(input)], 0,
            (k, b) => k.Pool.AvgPool2x2PadChannelsBackward(n, c, cOut, h, w, b[0], b[1], ceil));
    }

    [TestCase(1, 3, 1)]
    [TestCase(2, 17, 49)]
    [TestCase(5, 33, 64)]
    public void GlobalAvgPool(int n, int c, int hw)
    {
        AssertHostMatchesIlgpu("global avg pool", [Random((long)n * c * hw), Nan(n * c)], ReductionTolerance,
            (k, b) => k.Pool.GlobalAvgPoolForward(n, c, hw, b[0], b[1]));
        AssertHostMatchesIlgpu("global avg pool backward", [Random(n * c), Nan((long)n * c * hw)], 0,
            (k, b) => k.Pool.GlobalAvgPoolBackward(n, c, hw, b[0], b[1]));
    }

    [TestCase(1, 3, 1, 1)]
    [TestCase(2, 17, 49, 5)]
    [TestCase(3, 33, 9, 16)]
    public void Channels(int n, int c, int hw, int c1)
    {
        long size = (long)n * c * hw;
        AssertHostMatchesIlgpu("sum per channel", [Random(size), Nan(c)], ReductionTolerance,
            (k, b) => k.Channels.SumPerChannel(n, c, hw, b[0], b[1]));
        AssertHostMatchesIlgpu("accumulate per channel", [Random(size), Random(c)], ReductionTolerance,
            (k, b) => k.Channels.AccumulatePerChannel(n, c, hw, b[0], b[1]));
        int cOut = c + c1;
        AssertHostMatchesIlgpu("pad channels", [Random(size), Nan((long)n * cOut * hw)], 0,
            (k, b) => k.Channels.PadChannels(n, c, cOut, hw, b[0], b[1]));
        AssertHostMatchesIlgpu("pad channels backward", [Random((long)n * cOut * hw), Nan(size)], 0,
            (k, b) => k.Channels.PadChannelsBackward(n, c, cOut, hw, b[0], b[1]));
        if (c1 >= c) return;
        AssertHostMatchesIlgpu("split", [Random(size), Nan((long)n * c1 * hw), Nan((long)n * (c - c1) * hw)], 0,
            (k, b) => k.Channels.Split(n, c, hw, c1, b[0], b[1], b[2]));
        AssertHostMatchesIlgpu("concat", [Random((long)n * c1 * hw), Random((long)n * (c - c1) * hw), Nan(size)], 0,
            (k, b) => k.Channels.Concat(n, c1, c - c1, hw, b[0], b[1], b[2]));
    }

    [TestCase(1, 7, 10)]
    [TestCase(5, 33, 3)]
    [TestCase(32, 64, 10)]
    public void Linear(int n, int inFeatures, int outFeatures)
    {
        AssertHostMatchesIlgpu("linear forward", [Random(n * inFeatures), Random(outFeatures * inFeatures), Random(outFeatures), Nan(n * outFeatures)],
            ReductionTolerance, (k, b) => k.Linear.Forward(n, inFeatures, outFeatures, b[0], b[1], b[2], b[3]));
        AssertHostMatchesIlgpu("linear backward input", [Random(n * outFeatures), Random(outFeatures * inFeatures), Nan(n * inFeatures)],
            ReductionTolerance, (k, b) => k.Linear.BackwardInput(n, inFeatures, outFeatures, b[0], b[1], b[2]));
        AssertHostMatchesIlgpu("linear backward params", [Random(n * inFeatures), Random(n * outFeatures), Random(outFeatures * inFeatures), Random(outFeatures)],
            ReductionTolerance, (k, b) => k.Linear.BackwardParams(n, inFeatures, outFeatures, b[0], b[1], b[2], b[3]));
    }

    [TestCase(40001, 30000, true)]
    [TestCase(40001, 16384, false)]
    [TestCase(9, 0, false)]
    [TestCase(9, 9, true)]
    public void SgdStep(int length, int decayedCount, bool firstStep)
    {
        var settings = new SgdSettings(0.1f, 0.9f, 5e-4f);
        AssertHostMatchesIlgpu("sgd step", [Random(length), Random(length), firstStep ? Nan(length) : Random(length)], SameBits,
            (k, b) => k.Sgd.Step(settings.LearningRate, settings.Momentum, settings.WeightDecay, b[0], b[1], b[2], decayedCount, firstStep));
    }

    [TestCase(1, 10, false)]
    [TestCase(37, 10, false)]
    [TestCase(7, 3, true)]
    public void CrossEntropy(int n, int classes, bool badLabel)
    {
        var labels = Enumerable.Range(0, n).Select(_ => Rng.Next(classes)).ToArray();
        if (badLabel) labels[n / 2] = classes; // one past the last class: NaN loss, no one-hot term, no out-of-bounds read
        using var dlabels = Accelerator.Allocate1D(labels);
        var logits = RandomArray(n * classes, 5f);
        AssertHostMatchesIlgpu("cross entropy", [logits, Nan(n * classes), Nan(1)], ReductionTolerance,
            (k, b) => k.CrossEntropy.Forward(n, classes, b[0], dlabels.View, b[1], b[2]));
        AssertHostMatchesIlgpu("cross entropy backward", [Random(n * classes), Nan(n * classes)], ElementTolerance,
            (k, b) => k.CrossEntropy.Backward(n, classes, b[0], dlabels.View, 0.5f, b[1]));

        using var dlogits = Upload(logits);
        using var ilgpuCorrect = Accelerator.Allocate1D(new[] { -1 });
        using var hostCorrect = Accelerator.Allocate1D(new[] { -1 });
        K.CrossEntropy.CountCorrect(n, classes, dlogits.View, dlabels.View, ilgpuCorrect.View);
        Host.CrossEntropy.CountCorrect(n, classes, dlogits.View, dlabels.View, hostCorrect.View);
        Accelerator.Synchronize();
        Assert.That(hostCorrect.GetAsArray1D()[0], Is.EqualTo(ilgpuCorrect.GetAsArray1D()[0]), "count correct");
    }

    static readonly Conv2dShape[] ConvShapes =
    [
        new(1, 3, 7, 7, 5, 3, 3, 1, 1),
        new(1, 5, 7, 7, 17, 3, 3, 2, 1),
        new(2, 17, 1, 1, 3, 1, 1, 1, 0),
        new(2, 3, 8, 6, 4, 3, 3, 2, 0),
        new(3, 33, 7, 7, 18, 1, 1, 2, 0),
    ];

    [TestCaseSource(nameof(ConvShapes))]
    public void Conv2d(Conv2dShape s)
    {
        long input = (long)s.N * s.C * s.H * s.W, weights = (long)s.K * s.C * s.KH * s.KW, output = (long)s.N * s.K * s.OutH * s.OutW;
        AssertHostMatchesIlgpu("conv forward", [Random(input), Random(weights), Random(s.K), Nan(output)], ReductionTolerance,
            (k, b) => k.Conv2d.Forward(s, b[0], b[1], b[2], b[3]));
        AssertHostMatchesIlgpu("conv forward without bias", [Random(input), Random(weights), Nan(output)], ReductionTolerance,
            (k, b) => k.Conv2d.Forward(s, b[0], b[1], ArrayView<float>.Empty, b[2]));
        AssertHostMatchesIlgpu("conv backward input", [Random(output), Random(weights), Nan(input)], ReductionTolerance,
            (k, b) => k.Conv2d.BackwardInput(s, b[0], b[1], b[2]));
        AssertHostMatchesIlgpu("conv backward weight", [Random(input), Random(output), Random(weights)], ReductionTolerance,
            (k, b) => k.Conv2d.BackwardWeight(s, b[0], b[1], b[2]));
        AssertHostMatchesIlgpu("conv backward bias", [Random(output), Random(s.K)], ReductionTolerance,
            (k, b) => k.Channels.AccumulatePerChannel(s.N, s.K, s.OutH * s.OutW, b[0], b[1]));
    }
}
