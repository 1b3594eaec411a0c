using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Reversible;

/// <summary>
/// The product's central claim: rebuilding reversible blocks' inputs in backward gives the same step as storing
/// them, on a small RevNet with several reversible blocks and a transition (strided, widening) unit per stage.
/// </summary>
public class ReconstructingBackwardTests
{
    static readonly ModelConfig Small = new("revnet-test", true, [3, 3, 3], 8, [8, 12, 16], InputChannels: 3, Classes: 5);

    Device device = null!;

    [OneTimeSetUp]
    public void Open()
    {
        ThrowingTraceListener.Install();
        device = Device.Create("cpu");
    }

    [OneTimeTearDown]
    public void Close() => device.Dispose();

    (Tensor Images, Tensor Labels) Batch(int n, int size, int seed)
    {
        var random = new Random(seed);
        var images = new float[n * 3 * size * size];
        for (int i = 0; i < images.Length; i++) images[i] = (float)(random.NextDouble() * 2 - 1);
        var labels = Enumerable.Range(0, n).Select(_ => random.Next(5)).ToArray();
        return (Tensor.FromArray(device, images, n, 3, size, size), Tensor.FromArray(device, labels, n));
    }

    static Dictionary<string, float[]> Snapshot(ResidualNetwork model, Func<Parameter, Tensor> pick, bool learnable) =>
        model.NamedParameters().Where(p => p.Parameter.Learnable == learnable && p.Parameter.Persistent)
            .ToDictionary(p => p.Path, p => pick(p.Parameter).ToArray());

    static double RelativeL2(float[] a, float[] b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += Math.Pow((double)a[i] - b[i], 2);
            norm += (double)b[i] * b[i];
        }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-30);
    }

    [Test]
    public void Backward_ReconstructingAndRecomputingEqualStored_ForEveryParameterLossAndRunningStat()
    {
        var (images, labels) = Batch(3, 8, seed: 7);
        var results = new Dictionary<string, (StepStatistics Step, Dictionary<string, float[]> Grads, Dictionary<string, float[]> Stats)>();
        foreach (var mode in new[] { "stored", "reconstruct", "reconstruct+recompute" })
        {
            var model = new ResidualNetwork(Small) { Memory = Enum.GetValues<ActivationMemory>().Single(m => m.Name() == mode) };
            using var store = ParameterStore.Allocate(device, model, seed: 42);
            var step = TrainingStep.Run(model, store, images, labels);
            results[mode] = (step, Snapshot(model, p => p.Value.Grad!, true), Snapshot(model, p => p.Value, false));
        }
        var stored = results["stored"];
        foreach (var mode in new[] { "reconstruct", "reconstruct+recompute" })
            AssertSameStep(results[mode], stored, mode);
        images.Release();
        labels.Release();
    }

    static void AssertSameStep((StepStatistics Step, Dictionary<string, float[]> Grads, Dictionary<string, float[]> Stats) rec,
        (StepStatistics Step, Dictionary<string, float[]> Grads, Dictionary<string, float[]> Stats) stored, string mode)
    {
        TestContext.Out.WriteLine(mode);
        Assert.That(rec.Step.Loss, Is.EqualTo(stored.Step.Loss), "the forward is the same computation in both modes");
        Assert.That(rec.Grads.Keys, Is.EquivalentTo(stored.Grads.Keys));
        double worst = 0;
        foreach (var (name, g) in stored.Grads)
        {
            double err = RelativeL2(rec.Grads[name], g);
            worst = Math.Max(worst, err);
            Assert.That(err, Is.LessThanOrEqualTo(1e-3), $"{mode}: gradient of {name}");
            Assert.That(g.Any(v => v != 0), Is.True, $"gradient of {name} is all zero: the test would prove nothing");
        }
        TestContext.Out.WriteLine($"worst per-tensor relative L2 difference: {worst:E2} over {stored.Grads.Count} tensors");
        foreach (var (name, s) in stored.Stats)
            Assert.That(rec.Stats[name], Is.EqualTo(s), $"{mode}: running statistic {name} must be updated exactly once, identically");
    }

    [Test]
    public void Reconstruction_StaysWithin1e4Relative_AfterSgdSteps()
    {
        var (images, labels) = Batch(4, 8, seed: 3);
        var model = new ResidualNetwork(Small);
        using var store = ParameterStore.Allocate(device, model, seed: 5);
        var sgd = new SgdOptimizer(store, new SgdSettings(0.1f, 0.9f, 2e-4f));
        foreach (var r in model.ReversibleSequences) r.MeasureReconstruction = true;
        for (int i = 0; i < 4; i++)
        {
            TrainingStep.Run(model, store, images, labels);
            sgd.Step();
        }
        var errors = model.ReversibleSequences.SelectMany(r => r.ReconstructionErrors).ToArray();
        Assert.That(errors, Has.Length.EqualTo(6), "two reversible blocks in each of three stages");
        TestContext.Out.WriteLine($"reconstruction errors after 4 steps: {string.Join(", ", errors.Select(e => e.ToString("E2")))}");
        Assert.That(errors.Max(), Is.LessThanOrEqualTo(1e-4));
        Assert.That(errors.Max(), Is.GreaterThan(0), "float32 reconstruction is not exact; zero would mean nothing was rebuilt");
        images.Release();
        labels.Release();
    }

    [Test]
    public void Step_ReturnsEveryActivationByteToTheAllocator()
    {
        var (images, labels) = Batch(2, 8, seed: 1);
        var model = new ResidualNetwork(Small);
        using var store = ParameterStore.Allocate(device, model, seed: 1);
        long baseline = device.Allocator.BytesInUse;
        for (int i = 0; i < 3; i++)
        {
            TrainingStep.Run(model, store, images, labels);
            Assert.That(device.Allocator.BytesInUse, Is.EqualTo(baseline), $"after step {i}");
        }
        images.Release();
        labels.Release();
    }
}
