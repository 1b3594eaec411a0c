using System.Diagnostics;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.Kernels.Host;
using RevNetIlgpu.Kernels.Ilgpu;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>
/// `revnet bench step`: training-step time (forward, backward, SGD) of a RevNet reconstructing vs storing
/// activations, and of a ResNet of about equal parameters, with the kernel launches each step makes (and the list of one
/// step's launches: kernel, specialisation, grid, group, FLOPs, bytes, from an extra untimed step). The three run
/// alternately step by step in one process, so drift in a shared machine's speed hits all of them alike; the reported
/// ratios are medians of per-step ratios. Given a <see cref="PyTorchPeer"/>, each round also times PyTorch's copy of the
/// RevNet in both its modes, right after ours.
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

    /// <summary>
    /// Times <paramref name="warmup"/> + <paramref name="steps"/> rounds (one step of each model per round, the order
    /// reversed every other round). With <paramref name="peer"/>, PyTorch builds the same RevNet on
    /// <see cref="HostThreads.Count"/> threads and runs its stored and reconstructing steps in every round too;
    /// <paramref name="peerSkipped"/> says why there is no peer (kept in the result). With <paramref name="profileHostCalls"/>
    /// (the cpu device only), <paramref name="steps"/> more steps of the RevNet in each mode are profiled per host-kernel entry point afterwards.
    /// </summary>
    public static StepBenchmarkResult Run(Device device, ModelConfig revnet, ModelConfig baseline, int batch, int image, int steps, int warmup,
        PyTorchPeer? peer = null, string? peerSkipped = null, bool profileHostCalls = false, FixedPointFormat? exact = null)
    {
        device.RequireValues("bench step times kernels");
        if (profileHostCalls && device.Backend is not HostBackend)
            throw new ArgumentException($"a host-call profile needs the cpu device (host kernels run synchronously, so each call can be timed), not {device.Name}");
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
        using var exactModel = exact is null ? null : new TimedModel(device, revnet, reconstruct: true, exact);
        TimedModel[] order = exactModel is null ? [reconstruct, stored, resnet] : [reconstruct, stored, resnet, exactModel];
        string[] peerModes = ["stored", "reconstruct"];
        var peerMs = peerModes.ToDictionary(m => m, _ => new List<double>());
        // PyTorch runs where ours does: on the GPU for CUDA, else on the CPU cores (OpenCL's timings then compare with the CPU).
        string peerDevice = device.Kind == DeviceKind.Cuda ? "cuda" : "cpu";
        peer?.Build(revnet, batch, image, HostThreads.Count, reconstruct.ParameterCount, peerDevice);
        for (int s = 0; s < warmup + steps; s++)
        {
            // Reverse the order every other step so neither mode always runs right after the other.
            foreach (var model in s % 2 == 0 ? order : order.Reverse())
                model.Step(x, y, timed: s >= warmup, listLaunches: false);
            if (peer is null) continue;
            foreach (string mode in s % 2 == 0 ? peerModes : peerModes.Reverse())
            {
                double ms = peer.StepMs(mode);
                if (s >= warmup) peerMs[mode].Add(ms);
            }
        }
        // One more untimed step of each model lists its launches (recording slows a step a little).
        foreach (var model in order) model.Step(x, y, timed: false, listLaunches: true);
        PyTorchComparison? comparison = null;
        SampleStatistics? ratio = null;
        if (peer is not null)
        {
            var peerTimings = peerModes.ToDictionary(m => m, m => Timing(revnet.Name, m, peer.Params, batch, peerMs[m], null, null));
            string faster = peerTimings["reconstruct"].MedianMs <= peerTimings["stored"].MedianMs ? "reconstruct" : "stored";
            comparison = new PyTorchComparison(peer.TorchVersion, peerDevice, peer.Threads, peerTimings["stored"], peerTimings["reconstruct"], faster);
            // Images/s ours over PyTorch's = PyTorch's step time over ours, round by round.
            ratio = SampleStatistics.Of(peerMs[faster].Zip(reconstruct.StepMs, (theirs, ours) => theirs / ours));
        }
        return new StepBenchmarkResult(device.Name, batch, image, revnet.InputChannels, steps, warmup, HostThreads.Count,
            reconstruct.Timing(batch), stored.Timing(batch), resnet.Timing(batch),
            SampleStatistics.Of(reconstruct.StepMs.Zip(stored.StepMs, (r, st) => r / st)),
            SampleStatistics.Of(resnet.StepMs.Zip(stored.StepMs, (r, st) => r / st)),
            comparison, ratio, peer is null ? peerSkipped ?? "no PyTorch peer requested" : null,
            profileHostCalls ? ProfileHostCalls(device, reconstruct, stored, x, y, steps) : null,
            exactModel?.Timing(batch), exactModel is null ? null : SampleStatistics.Of(exactModel.StepMs.Zip(reconstruct.StepMs, (e, r) => e / r)));
    }

    /// <summary>
    /// <paramref name="steps"/> profiled steps of each RevNet mode, alternating (the shared machine's noise falls on both
    /// alike); per entry point the calls and milliseconds per step, largest reconstructing time first.
    /// </summary>
    static List<HostCallTiming> ProfileHostCalls(Device device, TimedModel reconstruct, TimedModel stored, Tensor x, Tensor y, int steps)
    {
        var profiles = new[] { new KernelCallProfile(), new KernelCallProfile() };
        TimedModel[] order = [reconstruct, stored];
        for (int s = 0; s < steps; s++)
            for (int m = 0; m < 2; m++)
            {
                int which = s % 2 == 0 ? m : 1 - m;
                device.Synchronize();
                device.Backend.Calls.Profile = profiles[which];
                try { order[which].Step(x, y, timed: false, listLaunches: false); }
                finally { device.Backend.Calls.Profile = null; }
                profiles[which].Stop();
            }
        var (r, st) = (profiles[0].Entries, profiles[1].Entries);
        return r.Keys.Union(st.Keys)
            .Select(name => (name, r: r.GetValueOrDefault(name), st: st.GetValueOrDefault(name)))
            .Select(e => new HostCallTiming(e.name, e.r.Calls / steps, e.r.Time.TotalMilliseconds / steps, e.st.Calls / steps, e.st.Time.TotalMilliseconds / steps))
            .OrderByDescending(t => t.ReconstructMs).ToList();
    }

    static StepTiming Timing(string model, string mode, long parameters, int batch, IReadOnlyList<double> stepMs, long? launches, string? launchKind)
    {
        double median = SampleStatistics.Of(stepMs).Median;
        return new StepTiming(model, mode, parameters, median, batch / (median / 1000), stepMs, launches, launchKind);
    }

    /// <summary>
    /// One model instance with its parameters and optimizer, and the synchronised wall time and kernel launches of each
    /// timed step. Launches are read from the device's counters before and after the step (a few nanoseconds each); the
    /// launch list of one step is recorded when asked (ILGPU launches with their shapes and costs, or host calls).
    /// </summary>
    sealed class TimedModel : IDisposable
    {
        readonly Device device;
        readonly ResidualNetwork model;
        readonly ParameterStore store;
        readonly SgdOptimizer sgd;
        readonly List<long> launches = [];

        public TimedModel(Device device, ModelConfig config, bool reconstruct, FixedPointFormat? exact = null)
        {
            this.device = device;
            model = new ResidualNetwork(config) { Memory = reconstruct ? ActivationMemory.Reconstruct : ActivationMemory.Stored }.WithExactReconstruction(exact);
            store = ParameterStore.Allocate(device, model, seed: 0);
            sgd = new SgdOptimizer(store, new SgdSettings(0.01f, 0.9f, 0f));
            Mode = (config.Reversible && reconstruct ? "reconstruct" : "stored") + (exact is null ? "" : " exact");
        }

        public string Mode { get; }

        public long ParameterCount => store.ParameterCount;

        public List<double> StepMs { get; } = [];

        List<LaunchEntry>? launchList;

        public void Step(Tensor x, Tensor y, bool timed, bool listLaunches)
        {
            var backend = device.Backend;
            device.Synchronize();
            var recorder = listLaunches && backend is IlgpuBackend ? new LaunchRecorder() : null;
            var hostLog = listLaunches && backend is not IlgpuBackend ? new List<string>() : null;
            if (recorder is not null) ((IlgpuBackend)backend).Context.Recorder = recorder;
            backend.Calls.Log = hostLog;
            long before = backend.KernelLaunches;
            var clock = Stopwatch.StartNew();
            try
            {
                TrainingStep.Run(model, store, x, y);
                sgd.Step();
                device.Synchronize();
            }
            finally
            {
                if (recorder is not null) ((IlgpuBackend)backend).Context.Recorder = null;
                backend.Calls.Log = null;
            }
            if (recorder is not null) launchList = recorder.Launches.Select(LaunchEntry.Of).ToList();
            if (hostLog is not null) launchList = hostLog.Select(LaunchEntry.HostCall).ToList();
            if (!timed) return;
            StepMs.Add(clock.Elapsed.TotalMilliseconds);
            launches.Add(backend.KernelLaunches - before);
        }

        public StepTiming Timing(int batch) =>
            StepBenchmark.Timing(model.Config.Name, Mode, store.ParameterCount, batch, StepMs, Median(launches), device.Backend.LaunchKind) with { LaunchList = launchList };

        static long Median(List<long> counts) => (long)SampleStatistics.Of(counts.Select(c => (double)c)).Median;

        public void Dispose()
        {
            sgd.Dispose();
            store.Dispose();
        }
    }
}
