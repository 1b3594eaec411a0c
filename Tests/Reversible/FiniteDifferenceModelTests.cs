using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Reversible;

/// <summary>
/// End to end: the whole network's gradient (stem, transition units with their shortcuts, reversible blocks,
/// head) against central finite differences of the loss, for sampled scalars of every parameter tensor. Per-op
/// tests cannot catch a wrongly wired network; this can.
/// </summary>
public class FiniteDifferenceModelTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [TestCase(true)]
    [TestCase(false)]
    public void NetworkGradient_MatchesFiniteDifferences(bool reversible)
    {
        using var device = Device.Create("cpu");
        var config = new ModelConfig("fd", reversible, [2, 2, 2], 4, [4, 8, 8], InputChannels: 1, Classes: 3, StemStride: 2);
        var model = new ResidualNetwork(config);
        using var store = ParameterStore.Allocate(device, model, seed: 3);
        var random = new Random(5);
        using var x = Tensor.FromArray(device, Enumerable.Range(0, 8 * 12 * 12).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), 8, 1, 12, 12);
        using var labels = Tensor.FromArray(device, new[] { 0, 1, 2, 1, 2, 0, 1, 0 }, 8);

        TrainingStep.Run(model, store, x, labels);
        var grads = store.Grads.ToArray();
        var values = store.Values.ToArray();

        double Loss(float[] v)
        {
            store.Values.CopyFrom(v);
            device.Tape.IsRecording = false;
            try
            {
                using var logits = model.Forward(x);
                using var loss = Functional.CrossEntropy(logits, labels);
                return loss.ToArray()[0];
            }
            finally
            {
                device.Tape.IsRecording = true;
            }
        }

        double Central(int index, float h)
        {
            var plus = (float[])values.Clone();
            var minus = (float[])values.Clone();
            plus[index] += h;
            minus[index] -= h;
            return (Loss(plus) - Loss(minus)) / (2 * h);
        }

        int checkedCount = 0;
        var failures = new List<string>();
        foreach (var (path, p) in store.Learnable)
        {
            int offset = (int)store.Offset(p), index = offset + random.Next((int)p.Length);
            // Float32 differences resolve about ulp(loss)/h ≈ 1e-4 here, and a ReLU kink within ±h bends one estimate:
            // gradients below 1e-3 are skipped, each estimate may differ by 10% plus that noise floor, and a parameter
            // fails only if the estimates at three step sizes all disagree. A wiring error (a missing path, a wrong
            // sign, a swapped half) disagrees at every step size.
            if (Math.Abs(grads[index]) < 1e-3) continue;
            checkedCount++;
            var estimates = new[] { 5e-4f, 1e-3f, 2e-3f }.Select(h => Central(index, h)).ToArray();
            if (estimates.All(numeric => Math.Abs(numeric - grads[index]) > 0.1 * Math.Max(Math.Abs(numeric), Math.Abs(grads[index])) + 5e-4))
                failures.Add($"{path}[{index - offset}]: analytic {grads[index]:E3} numeric {string.Join(" / ", estimates.Select(e => e.ToString("E3")))}");
        }
        store.Values.CopyFrom(values);
        TestContext.Out.WriteLine($"{checkedCount} parameters checked");
        Assert.That(checkedCount, Is.GreaterThan(store.Learnable.Count / 2), "most tensors must have a resolvable gradient");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }
}
