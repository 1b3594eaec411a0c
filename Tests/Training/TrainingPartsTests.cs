using NUnit.Framework;
using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Training;
using RevNetIlgpu.Tests.Reliability;

namespace RevNetIlgpu.Tests.Training;

/// <summary>The parts <see cref="Trainer"/> runs, each on its own: setup, the update step, evaluation, the end of an epoch.</summary>
public class TrainingPartsTests
{
    TinyIdxDataset data = null!;
    Device device = null!;
    readonly DataParallel oneRank = new(new SingleProcess());

    [SetUp]
    public void Open()
    {
        data = new TinyIdxDataset(trainCount: 48);
        device = Device.Create("cpu");
    }

    [TearDown]
    public void Close()
    {
        device.Dispose();
        data.Dispose();
    }

    TrainingSetup Setup(TrainOptions options) => TrainingSetup.Create(device, options, oneRank, _ => { });

    [TestCase(1, 0, null, "--batch must be at least 2")]
    [TestCase(8, 3, 60.0, "--warmup-steps of at least 9")]
    [TestCase(8, 9, 0.0, "--time-budget must be a positive number of seconds")]
    public void Setup_RefusesBadOptions_BeforeReadingAnyData(int batch, int warmup, double? budget, string message)
    {
        var options = TinyRun.Options(data, "bad") with { DataDirectory = "/no/such/directory", BatchSize = batch, WarmupSteps = warmup, TimeBudgetSeconds = budget };
        var error = Assert.Throws<ArgumentException>(() => Setup(options))!;
        Assert.That(error.Message, Does.Contain(message));
    }

    [Test]
    public void Setup_LoadsAndNormalisesTheData_AndSchedulesEveryEpoch_OrTheCap()
    {
        var log = new List<string>();
        using (var setup = TrainingSetup.Create(device, TinyRun.Options(data, "setup") with { Epochs = 3 }, oneRank, log.Add))
        {
            Assert.That((setup.BatchesPerEpoch, setup.MaxSteps, setup.Schedule.TotalSteps), Is.EqualTo((6, 18, 18)));
            Assert.That(setup.Normalization.Mean, Is.EqualTo(ChannelNormalization.Compute(setup.Train).Mean), "the training set's own statistics");
            Assert.That(setup.Start, Is.EqualTo(new TrainingState(0, 0, 0, 0)));
        }
        Assert.That(log, Has.Count.EqualTo(2));
        Assert.That(log[0], Does.StartWith("data: fashion-mnist/train 48 train / 16 test images, 1x8x8, 10 classes"));
        Assert.That(log[1], Does.StartWith("model: revnet-tiny, "));
        using var capped = Setup(TinyRun.Options(data, "capped") with { Epochs = 3, MaxSteps = 10 });
        Assert.That((capped.MaxSteps, capped.Schedule.TotalSteps), Is.EqualTo((10, 10)));
    }

    [Test]
    public void UpdateStep_ChangesTheWeights_AndAnInfiniteRateStopsNamingTheStep()
    {
        using var setup = Setup(TinyRun.Options(data, "step"));
        var update = new UpdateStep(device, setup, oneRank);
        var batch = setup.TrainLoader.Create(new SamplerPosition(0, 0));
        var before = setup.Store.Values.ToArray();

        var stats = update.Run(batch, step: 1, learningRate: 0.05f, measureReconstruction: true);

        Assert.That(float.IsFinite(stats.Loss) && stats.Correct is >= 0 and <= 8, $"loss {stats.Loss}, {stats.Correct} correct");
        Assert.That(setup.Store.Values.ToArray(), Is.Not.EqualTo(before), "the SGD step moved the weights");
        Assert.That(update.ReconstructionDrift, Is.InRange(0, 1e-4), "the reversible blocks rebuilt their inputs");
        var error = Assert.Throws<NonFiniteException>(() => update.Run(batch, step: 2, learningRate: float.PositiveInfinity, measureReconstruction: false))!;
        Assert.That(error.Message, Does.StartWith("step 2: the update made ").And.EndWith($"The last good checkpoint is in {setup.Options.OutputDirectory}"));
    }

    [Test]
    public void Evaluator_ChangesNoState_AndLeavesTheModelTraining()
    {
        using var setup = Setup(TinyRun.Options(data, "evaluate"));
        var evaluator = new Evaluator(device);
        var buffers = setup.Store.Buffers.ToArray();

        var first = evaluator.Evaluate(setup.Model, setup.TestLoader);
        var second = evaluator.Evaluate(setup.Model, setup.TestLoader);

        Assert.That(second, Is.EqualTo(first), "evaluating twice gives the same loss and accuracy");
        Assert.That(first.Accuracy, Is.InRange(0, 1));
        Assert.That(setup.Store.Buffers.ToArray(), Is.EqualTo(buffers), "running statistics untouched");
        Assert.That(setup.Model.Training && device.Tape.IsRecording, "back to training, recording again");
    }

    [Test]
    public void EpochEnd_AppendsTheMetricsRow_WritesLast_AndBestOnlyWhenTheAccuracyImproves()
    {
        var options = TinyRun.Options(data, "epoch-end");
        using var setup = Setup(options);
        Directory.CreateDirectory(options.OutputDirectory);
        var checkpoints = new RunCheckpoints(setup, oneRank);
        var epochEnd = new EpochEnd(setup, oneRank, new Evaluator(device), checkpoints, TimeProvider.System);
        var update = new UpdateStep(device, setup, oneRank);
        var tally = new EpochTally(0, TimeProvider.System);
        tally.Add(update.Run(setup.TrainLoader.Create(new SamplerPosition(0, 0)), 1, 0.05f, false), 8, 1);

        var first = epochEnd.Finish(tally, step: 1, next: new SamplerPosition(0, 1), peakBytes: 1 << 20);
        Assert.That(first.TestAccuracy, Is.GreaterThan(0), "this seed's first evaluation gets some right, so it is the best yet");
        var second = epochEnd.Finish(tally, step: 2, next: new SamplerPosition(0, 2), peakBytes: 1 << 20);

        Assert.That(second.TestAccuracy, Is.EqualTo(first.TestAccuracy), "no step between: the same accuracy, not better");
        Assert.That(epochEnd.BestTestAccuracy, Is.EqualTo(first.TestAccuracy));
        Assert.That(CheckpointFiles.LoadIntoFreshModel(device, checkpoints.LastPath, out _), Is.EqualTo(new TrainingState(2, 0, 2, first.TestAccuracy)));
        Assert.That(CheckpointFiles.LoadIntoFreshModel(device, checkpoints.BestPath, out _).Step, Is.EqualTo(1), "best is the first epoch end's");
        var rows = MetricsLog.Read(Path.Combine(options.OutputDirectory, "metrics.csv"));
        Assert.That(rows.Select(r => r["step"]), Is.EqualTo(new[] { 1.0, 2.0 }));
        Assert.That(rows[0]["test_acc"], Is.EqualTo(first.TestAccuracy).Within(1e-4));
        var metadata = Checkpoint.Read(checkpoints.LastPath).Metadata;
        Assert.That(ChannelNormalization.ReadFrom(metadata, checkpoints.LastPath).Mean, Is.EqualTo(setup.Normalization.Mean), "evaluating the checkpoint needs its normalisation");
    }
}
