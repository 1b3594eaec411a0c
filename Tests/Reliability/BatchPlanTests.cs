using System.Text.Json;
using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Support;

namespace RevNetIlgpu.Tests.Reliability;

/// <summary>
/// "How big a batch fits" (issue 17): `revnet plan` finds the largest batch per mode on the meta device, and a real run at
/// the planned reconstructing batch under `--memory-limit` trains where the stored run stops with the out-of-memory line.
/// The demonstration at paper scale (RevNet-110, 256 MiB) is in the README; this is the same at a size CI runs in seconds.
/// </summary>
public class BatchPlanTests
{
    [OneTimeSetUp]
    public void InstallListener() => ThrowingTraceListener.Install();

    [Test]
    public void Largest_FindsTheExactBoundary_OfAnyIncreasingPeak()
    {
        foreach (long budget in new long[] { 1_000, 5_003, 123_456, 9_999_999 })
        {
            int calls = 0;
            long Peak(int batch)
            {
                calls++;
                return 700 + 37L * batch + batch * batch / 50; // affine plus a little curvature
            }
            var (batch, peak) = BatchPlan.Largest(Peak, budget, largestBatch: 100_000);
            Assert.That(Peak(batch), Is.LessThanOrEqualTo(budget), $"budget {budget}: batch {batch} fits");
            Assert.That(Peak(batch + 1), Is.GreaterThan(budget), $"budget {budget}: batch {batch + 1} does not");
            Assert.That(peak, Is.EqualTo(Peak(batch)));
            Assert.That(calls, Is.LessThan(40), "a few dozen profiles, not a scan");
        }
        Assert.That(BatchPlan.Largest(b => 1000L * b, 1999, 100), Is.EqualTo((0, 0L)), "not even a batch of 2 fits");
        Assert.That(BatchPlan.Largest(b => b, 1_000_000, 300).Batch, Is.EqualTo(300), "capped at the largest batch asked for");
    }

    [Test]
    public void PlannedBatch_FitsOnTheMetaDevice_AndOneMoreDoesNot()
    {
        var model = ModelBlueprint.Of(ModelConfig.Named("revnet-tiny", inputChannels: 1), 8);
        const long budget = 1 << 20;
        var plan = BatchPlan.Plan(model, budget);
        Assert.That(plan.Select(e => (e.Mode, e.Exact)), Is.EqualTo(new[]
        {
            (ActivationMemory.Reconstruct, false), (ActivationMemory.Reconstruct, true),
            (ActivationMemory.ReconstructAndRecompute, false), (ActivationMemory.ReconstructAndRecompute, true),
            (ActivationMemory.Stored, false), (ActivationMemory.Stored, true),
        }));
        using var meta = Device.Create("meta");
        foreach (var e in plan)
        {
            var format = e.Exact ? RevNetIlgpu.Kernels.FixedPointFormat.Default : (RevNetIlgpu.Kernels.FixedPointFormat?)null;
            Assert.That(e.PeakHeldBytes, Is.LessThanOrEqualTo(budget).And.EqualTo(MemoryProfile.Measure(meta, model, e.Mode, e.MaxBatch, 2, format).PeakHeldBytes));
            Assert.That(MemoryProfile.Measure(meta, model, e.Mode, e.MaxBatch + 1, 2, format).PeakHeldBytes, Is.GreaterThan(budget), $"{e.Mode.Name()} exact={e.Exact}: one more does not fit");
        }
        int stored = plan.Single(e => e is { Mode: ActivationMemory.Stored, Exact: false }).MaxBatch;
        Assert.That(plan.Single(e => e is { Mode: ActivationMemory.Reconstruct, Exact: false }).MaxBatch, Is.GreaterThan(stored * 3 / 2), "reconstructing fits a bigger batch");
    }

    [Test]
    public void PlanJson_ThenTrainUnderTheLimit_ReconstructingTrains_StoredStopsWithOneLine()
    {
        var planned = RevnetCli.RunInProcess("plan", "--model", "revnet-tiny", "--memory", "1MiB", "--image", "8", "--channels", "1", "--json");
        Assert.That(planned.ExitCode, Is.Zero, planned.StandardError);
        using var json = JsonDocument.Parse(planned.StandardOutput);
        var entries = json.RootElement.EnumerateArray().ToList();
        Assert.That(entries, Has.Count.EqualTo(6), "three modes, each with float32 and exact couplings");
        foreach (var e in entries)
        {
            Assert.That(e.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "mode", "exact", "max_batch", "peak_held_bytes" }));
            Assert.That(e.GetProperty("mode").GetString(), Is.AnyOf("stored", "reconstruct", "reconstruct+recompute"));
        }
        int Batch(string mode) => entries.Single(e => e.GetProperty("mode").GetString() == mode && !e.GetProperty("exact").GetBoolean()).GetProperty("max_batch").GetInt32();
        int reconstruct = Batch("reconstruct");
        Assume.That(reconstruct, Is.LessThanOrEqualTo(64), "the tiny data set has 64 training images");

        using var data = new TinyIdxDataset();
        var trained = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "fits", "--batch", $"{reconstruct}", "--memory-limit", "1MiB", "--max-steps", "2")]);
        Assert.That(trained.ExitCode, Is.Zero, trained.StandardError);
        Assert.That(trained.StandardOutput, Does.Contain("RESULT model=revnet-tiny"));

        var stored = RevnetCli.RunInProcess([.. TinyRun.TrainArguments(data, "stored", "--batch", $"{reconstruct}", "--memory-limit", "1MiB", "--max-steps", "2", "--stored", "true")]);
        Assert.That(stored.ExitCode, Is.Not.Zero);
        Assert.That(stored.ErrorLines, Has.Count.EqualTo(1).And.One.Match("^revnet: error: out of device memory.*revnet plan"));
        Assert.That(Directory.GetFiles(data.OutputDirectory("stored"), "*.safetensors"), Is.Empty, "no checkpoint of a run that never finished a step");
    }
}
