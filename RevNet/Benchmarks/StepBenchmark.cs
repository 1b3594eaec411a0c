using System.Diagnostics;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// `revnet bench step`: training-step time (forward, backward, SGD) of a RevNet reconstructing vs storing
/// activations, and of a ResNet of about equal parameters. The three run alternately step by step in one process,
/// so drift in a shared machine's speed hits all of them alike; the reported ratios are medians of per-step ratios.
/// </summary>
public static class StepBenchmark
{
    /// <summary>The ResNet of about the same parameter count as each RevNet (Gomez et al. 2017, Table 2).</summary>
    public static IReadOnlyDictionary<string, string> EqualParameterResNet { get; } = new Dictionary<string, string>
    {
        ["revnet38"] = "resnet32",
        ["revnet110"] = "resnet110",
        ["revnet164"] = "resnet164",
        ["revnet-tiny"] = "resnet-tiny",
    };

    public static StepBenchmarkResult Run(Device device, ModelConfig revnet, ModelConfig baseline, int batch, int image, int steps, int warmup)
    {
        if (device.IsMeta) throw new ArgumentException("bench step times kernels; the meta device runs none (use --device cpu, ilgpu-cpu, cuda or opencl)");
        if (!revnet.Reversible) throw new ArgumentException($"{revnet.Name} is not a RevNet: nothing to reconstruct");
        if (steps <= 0) throw new ArgumentException($"steps must be positive, got {steps}");
        if (warmup < 0) throw new ArgumentException($"warmup must not be negative, got {warmup}");
        var random = new Random(0);
        var pixels = new float[(long)batch * revnet.InputChannels * image * image];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        using var x = Tensor.FromArray(device, pixels, batch, revnet.InputChannels, image, image);
        using var y = Tensor.FromArray(device, Enumerable.Range(0, batch).Select(i => i % revnet.Classes).ToArray(), batch);
        // Same config and seed: the reconstructing and stored models start from the same weights.
        using var reconstruct = new TimedModel(device, revnet, reconstruct: true);
        using var stored = new TimedModel(device, revnet, reconstruct: false);
        using var resnet = new TimedModel(device, baseline, reconstruct: false);
        TimedModel[] order = [reconstruct, stored, resnet];
        for (int s = 0; s < warmup + steps; s++)
        {
            // Reverse the order every other step so neither mode always runs right after the other.
            foreach (var model in s % 2 == 0 ? order : order.Reverse())
                model.Step(x, y, timed: s >= warmup);
        }
        return new StepBenchmarkResult(device.Name, batch, image, steps, warmup,
            reconstruct.Timing(batch), stored.Timing(batch), resnet.Timing(batch),
            SampleStatistics.Of(reconstruct.StepMs.Zip(stored.StepMs, (r, st) => r / st)),
            SampleStatistics.Of(resnet.StepMs.Zip(stored.StepMs, (r, st) => r / st)));
    }

    /// <summary>One model instance with its parameters and optimizer, and the synchronised wall time of each timed step.</summary>
    sealed class TimedModel : IDisposable
    {
        readonly Device device;
        readonly ResidualNetwork model;
        readonly ParameterStore store;
        readonly SgdOptimizer sgd;

        public TimedModel(Device device, ModelConfig config, bool reconstruct)
        {
            this.device = device;
            model = new ResidualNetwork(config) { Reconstruct = reconstruct };
            store = ParameterStore.Allocate(device, model, seed: 0);
            sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
            Mode = config.Reversible && reconstruct ? "reconstruct" : "stored";
        }

        public string Mode { get; }

        public List<double> StepMs { get; } = [];

        public void Step(Tensor x, Tensor y, bool timed)
        {
            device.Synchronize();
            var clock = Stopwatch.StartNew();
            TrainingStep.Run(model, store, x, y);
            sgd.Step();
            device.Synchronize();
            if (timed) StepMs.Add(clock.Elapsed.TotalMilliseconds);
        }

        public StepTiming Timing(int batch)
        {
            double median = SampleStatistics.Of(StepMs).Median;
            return new StepTiming(model.Config.Name, Mode, store.ParameterCount, median, batch / (median / 1000), StepMs);
        }

        public void Dispose()
        {
            sgd.Dispose();
            store.Dispose();
        }
    }
}
