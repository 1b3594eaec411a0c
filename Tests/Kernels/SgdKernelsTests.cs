using RevNetIlgpu.RevNet.Training;
using System.Runtime.InteropServices;
using NUnit.Framework;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Kernels;

public class SgdKernelsTests : KernelTestBase
{
    static float[] Golden(string file) =>
        MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "golden", file))).ToArray();

    [Test]
    public void ThreeSteps_MatchPyTorchGolden()
    {
        var settings = new SgdSettings(LearningRate: 0.1f, Momentum: 0.9f, WeightDecay: 1e-4f);
        var grads = Golden("sgd_momentum.grads.bin");
        var after = Golden("sgd_momentum.w_after.bin");
        const int size = 20;
        using var w = Upload(Golden("sgd_momentum.w0.bin"));
        using var buf = Poisoned(size); // the first step must not read the buffer
        for (int step = 0; step < 3; step++)
        {
            using var g = Upload(grads[(step * size)..((step + 1) * size)]);
            K.Sgd.Step(settings.LearningRate, settings.Momentum, settings.WeightDecay, w.View, g.View, buf.View, decayedCount: size, firstStep: step == 0);
            AssertClose(Download(w), FiniteDifference.ToDouble(after[(step * size)..((step + 1) * size)]), 1e-6, $"weights after step {step + 1}");
        }
    }

    [Test]
    public void Step_MatchesFloat64Reference_DecayOnlyBeforeDecayedCount()
    {
        const int size = 3 * 5 * 7 * 9, decayed = 700;
        var settings = new SgdSettings(0.05f, 0.9f, 0.01f);
        var w = RandomArray(size);
        var buf = RandomArray(size);
        var g = RandomArray(size);
        using var dw = Upload(w);
        using var dbuf = Upload(buf);
        using var dg = Upload(g);
        K.Sgd.Step(settings.LearningRate, settings.Momentum, settings.WeightDecay, dw.View, dg.View, dbuf.View, decayed, firstStep: false);
        var expectedBuf = new double[size];
        var expectedW = new double[size];
        for (int i = 0; i < size; i++)
        {
            double d = g[i] + (i < decayed ? (double)settings.WeightDecay * w[i] : 0);
            expectedBuf[i] = (double)settings.Momentum * buf[i] + d;
            expectedW[i] = w[i] - (double)settings.LearningRate * expectedBuf[i];
        }
        // A handful of float32 roundings on values of order 1.
        AssertClose(Download(dbuf), expectedBuf, 1e-6, "momentum buffer");
        AssertClose(Download(dw), expectedW, 1e-6, "weights");
    }

    [Test]
    public void BadSizes_ThrowWithOpAndSizes()
    {
        using var w = Upload(RandomArray(10));
        using var g = Upload(RandomArray(9));
        var s = new SgdSettings(0.1f, 0.9f, 0f);
        var ex = Assert.Throws<ArgumentException>(() => K.Sgd.Step(s.LearningRate, s.Momentum, s.WeightDecay, w.View, g.View, w.View, 0, true));
        Assert.That(ex!.Message, Does.Contain("sgd step").And.Contain("grads").And.Contain("10").And.Contain("9"));
        ex = Assert.Throws<ArgumentException>(() => K.Sgd.Step(s.LearningRate, s.Momentum, s.WeightDecay, w.View, w.View, w.View, 11, true));
        Assert.That(ex!.Message, Does.Contain("sgd step").And.Contain("decayedCount").And.Contain("11"));
    }
}
