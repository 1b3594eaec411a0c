using ILGPU;
using ILGPU.Runtime;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class CrossEntropyKernelsTests : KernelTestBase
{
    static (double[] Probs, double Loss) Reference(double[] logits, int[] labels, int classes)
    {
        int n = labels.Length;
        var probs = new double[logits.Length];
        double loss = 0;
        for (int r = 0; r < n; r++)
        {
            var row = logits.AsSpan(r * classes, classes);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            for (int j = 0; j < classes; j++) probs[r * classes + j] = Math.Exp(row[j] - max) / sum;
            loss += (max + Math.Log(sum) - row[labels[r]]) / n;
        }
        return (probs, loss);
    }

    int[] RandomLabels(int n, int classes) => Enumerable.Range(0, n).Select(_ => Rng.Next(classes)).ToArray();

    float[] RunForward(int n, int classes, float[] logits, int[] labels, out float[] probs)
    {
        using var dlogits = Upload(logits);
        using var dlabels = Accelerator.Allocate1D(labels);
        using var dprobs = Poisoned(n * classes);
        using var dloss = Poisoned(1);
        K.CrossEntropy.Forward(n, classes, dlogits.View, dlabels.View, dprobs.View, dloss.View);
        probs = Download(dprobs);
        return Download(dloss);
    }

    [TestCase(37, 10, 1f)]
    [TestCase(5, 7, 1e4f)]
    public void Forward_MatchesFloat64Reference_StableForLargeLogits(int n, int classes, float scale)
    {
        var logits = RandomArray(n * classes, scale);
        var labels = RandomLabels(n, classes);
        var loss = RunForward(n, classes, logits, labels, out var probs);
        var (refProbs, refLoss) = Reference(FiniteDifference.ToDouble(logits), labels, classes);
        Assert.That(probs.Concat(loss).All(float.IsFinite), "no NaN or Inf, even for logits ~1e4");
        // exp and a 10-term sum in float32; at scale 1e4 the loss is a difference of 1e4-sized logits, so relative to itself it keeps ~1e-7·1e4/loss.
        AssertClose(probs, refProbs, 1e-5, "probs");
        Assert.That(loss[0], Is.EqualTo(refLoss).Within(Math.Max(1e-5 * Math.Abs(refLoss), 1e-6 * scale)), "mean loss");
    }

    [Test]
    public void Forward_IsDeterministic()
    {
        var logits = RandomArray(41 * 10, 3f);
        var labels = RandomLabels(41, 10);
        var loss1 = RunForward(41, 10, logits, labels, out var probs1);
        var loss2 = RunForward(41, 10, logits, labels, out var probs2);
        Assert.That(loss2, Is.EqualTo(loss1), "loss bits");
        Assert.That(probs2, Is.EqualTo(probs1), "probs bits");
    }

    [Test]
    public void Forward_LabelOutOfRange_GivesNaNLossWithoutReadingOutOfBounds()
    {
        var logits = RandomArray(4 * 5);
        var loss = RunForward(4, 5, logits, [0, 5, 2, -1], out var probs);
        Assert.That(float.IsNaN(loss[0]), "an invalid label poisons the mean loss");
        Assert.That(probs.All(float.IsFinite), "probs do not depend on labels");
    }

    [TestCase(37, 10, 1f)]
    [TestCase(3, 5, 0.5f)]
    public void Backward_MatchesFloat64Reference(int n, int classes, float gradScale)
    {
        var logits = RandomArray(n * classes, 2f);
        var labels = RandomLabels(n, classes);
        RunForward(n, classes, logits, labels, out var probs);
        using var dprobs = Upload(probs);
        using var dlabels = Accelerator.Allocate1D(labels);
        using var dg = Poisoned(n * classes);
        K.CrossEntropy.Backward(n, classes, dprobs.View, dlabels.View, gradScale, dg.View);
        var expected = probs.Select((p, i) => (p - (labels[i / classes] == i % classes ? 1.0 : 0.0)) * gradScale / n).ToArray();
        AssertClose(Download(dg), expected, 1e-6, "glogits from the same probs (two roundings)");
    }

    [Test]
    public void Backward_MatchesFiniteDifferencesOfLoss()
    {
        const int n = 3, classes = 4;
        var logits = RandomArray(n * classes, 2f);
        var labels = RandomLabels(n, classes);
        RunForward(n, classes, logits, labels, out var probs);
        using var dprobs = Upload(probs);
        using var dlabels = Accelerator.Allocate1D(labels);
        using var dg = Poisoned(n * classes);
        K.CrossEntropy.Backward(n, classes, dprobs.View, dlabels.View, 1f, dg.View);
        var numeric = FiniteDifference.Gradient(v => [Reference(v, labels, classes).Loss], FiniteDifference.ToDouble(logits), [1.0]);
        AssertClose(Download(dg), numeric, 1e-5, "glogits against float64 differences (float32 probs)");
    }

    [Test]
    public void CountCorrect_CountsFirstArgmax()
    {
        const int n = 45, classes = 7;
        var logits = RandomArray(n * classes);
        logits[0] = logits[1] = 5f; // a tie in row 0: the first maximum (class 0) wins
        var labels = RandomLabels(n, classes);
        labels[0] = 0;
        int expected = Enumerable.Range(0, n).Count(r =>
        {
            int best = 0;
            for (int j = 1; j < classes; j++) if (logits[r * classes + j] > logits[r * classes + best]) best = j;
            return best == labels[r];
        });
        using var dlogits = Upload(logits);
        using var dlabels = Accelerator.Allocate1D(labels);
        using var correct = Accelerator.Allocate1D(new[] { -9 });
        K.CrossEntropy.CountCorrect(n, classes, dlogits.View, dlabels.View, correct.View);
        Accelerator.Synchronize();
        Assert.That(correct.GetAsArray1D()[0], Is.EqualTo(expected), "count of rows whose first argmax is the label (stale value overwritten)");
    }

    [Test]
    public void BadSizes_ThrowWithOpAndSizes()
    {
        using var logits = Upload(RandomArray(12));
        using var labels = Accelerator.Allocate1D(new int[4]);
        using var loss = Poisoned(1);
        var ex = Assert.Throws<ArgumentException>(() => K.CrossEntropy.Forward(3, 4, logits.View, labels.View, logits.View, loss.View));
        Assert.That(ex!.Message, Does.Contain("cross entropy").And.Contain("labels").And.Contain("3").And.Contain("4"));
        ex = Assert.Throws<ArgumentException>(() => K.CrossEntropy.Backward(4, 4, logits.View, labels.View, 1f, logits.View));
        Assert.That(ex!.Message, Does.Contain("cross entropy backward").And.Contain("16").And.Contain("12"));
    }
}
