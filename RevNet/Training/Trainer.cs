using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>A progress report after a training step.</summary>
public sealed record StepProgress(long Step, long TotalSteps, int Epoch, float Loss, double RunningLoss, double RunningAccuracy,
    double ImagesPerSecond, long BytesInUse, long PeakBytes, float LearningRate);

/// <summary>What one epoch achieved; also a row of metrics.csv.</summary>
public sealed record EpochSummary(int Epoch, long Step, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double ReconstructionError, double Seconds, double ImagesPerSecond, long PeakBytes, float LearningRate);

/// <summary>The outcome of a run.</summary>
public sealed record TrainResult(string Model, double TestAccuracy, double BestTestAccuracy, double Seconds, double ImagesPerSecond, long PeakBytes, long Steps,
    IReadOnlyList<EpochSummary> Epochs);

/// <summary>
/// Trains a classifier (Keras' <c>fit</c>): a built-in RevNet/ResNet named by the options, or any <see cref="Layers.Module"/>
/// with its datasets (<see cref="Trainer(Device, TrainingModel, ImageDataset, ImageDataset, TrainOptions, TimeProvider?)"/>).
/// SGD with momentum and weight decay, a cosine or step schedule with warm-up, an optional time budget, evaluation
/// every epoch, last and best checkpoints, metrics.csv, a per-epoch reconstruction-drift figure, and a stop with
/// the step named when the loss or any gradient is NaN/Inf (the last good checkpoint stays). With a communicator of
/// N ranks (mpirun), each rank trains on its 1/N slice of every global batch and gradients are averaged
/// (<see cref="DataParallel"/>); rank 0 alone writes files. The loop's parts: <see cref="TrainingSetup"/> (data,
/// model, optimizer, schedule, resume), <see cref="UpdateStep"/> (one step with its NaN/Inf checks),
/// <see cref="TimeBudget"/> (the step count under --time-budget) and <see cref="EpochEnd"/> (evaluation, metrics,
/// checkpoints).
/// </summary>
public sealed class Trainer
{
    readonly Device device;
    readonly TrainOptions options;
    readonly DataParallel ranks;
    readonly TimeProvider clock;
    readonly (TrainingModel Model, ImageDataset Train, ImageDataset Test)? custom;

    /// <summary>
    /// A run of the built-in model and dataset <paramref name="options"/> name (as `revnet train`), on one or several ranks.
    /// <paramref name="clock"/> is the run's clock (the system's by default): wall times, the time budget and throughput are read from it.
    /// </summary>
    public Trainer(Device device, TrainOptions options, ICommunicator? communicator = null, TimeProvider? clock = null)
    {
        this.device = device;
        this.options = options;
        ranks = new DataParallel(communicator ?? new SingleProcess());
        this.clock = clock ?? TimeProvider.System;
    }

    /// <summary>
    /// A run of your own <paramref name="model"/> (e.g. <c>TrainingModel.Custom(net, "my-revnet")</c>) on <paramref name="train"/>,
    /// evaluated on <paramref name="test"/> every epoch; <paramref name="options"/> give the hyperparameters, the output
    /// directory and the limits (its model and dataset names are not used). Its parameters are allocated by the run
    /// (seeded by <see cref="TrainOptions.Seed"/>) and freed when it ends: evaluate or save inside <see cref="EpochCompleted"/>,
    /// or load the run's checkpoint afterwards.
    /// </summary>
    public Trainer(Device device, TrainingModel model, ImageDataset train, ImageDataset test, TrainOptions options, TimeProvider? clock = null)
        : this(device, options, null, clock) => custom = (model, train, test);

    /// <summary>Raised on every rank after each training step.</summary>
    public event Action<StepProgress>? StepCompleted;

    /// <summary>Raised after each epoch's evaluation and checkpoints, while the parameters are still allocated.</summary>
    public event Action<EpochSummary>? EpochCompleted;

    /// <summary>Messages for the user (data loaded, resumed from, the time budget's step count).</summary>
    public event Action<string>? Log;

    /// <summary>Trains to the end (all epochs, --max-steps, or the time budget), or resumes and continues; returns the final and best test accuracy, time and memory.</summary>
    /// <exception cref="ArgumentException">Bad options, found before any data is read.</exception>
    public TrainResult Run()
    {
        using var setup = custom is var (model, train, test)
            ? TrainingSetup.Create(device, options, model, train, test, ranks, Report)
            : TrainingSetup.Create(device, options, ranks, Report);
        if (ranks.IsWriter) Directory.CreateDirectory(options.OutputDirectory);
        var evaluator = new Evaluator(device, ranks, clock, setup.Loss);
        var checkpoints = new RunCheckpoints(setup, ranks);
        var epochEnd = new EpochEnd(setup, ranks, evaluator, checkpoints, clock);
        var update = new UpdateStep(device, setup, ranks);
        device.CheckEveryOp = options.CheckEveryOp;
        var budget = options.TimeBudgetSeconds is { } seconds
            ? new TimeBudget(seconds, options.WarmupSteps, setup.Schedule, setup.BatchesPerEpoch, ranks.Min)
            : null;
        if (budget is not null) budget.Log += Report;
        var schedule = setup.Schedule;
        long totalSteps = setup.MaxSteps;
        int batchesPerEpoch = setup.BatchesPerEpoch;

        var epochs = new List<EpochSummary>();
        long runStart = clock.GetTimestamp();
        double trainSeconds = 0, lastAccuracy = 0;
        long imagesSeen = 0, peakBytes = 0, step = setup.Start.Step;
        var position = new SamplerPosition(setup.Start.Epoch, setup.Start.BatchInEpoch);
        if (position.Batch >= batchesPerEpoch) position = new SamplerPosition(position.Epoch + 1, 0);

        while (step < totalSteps && position.Epoch < options.Epochs)
        {
            var tally = new EpochTally(position.Epoch, clock);
            foreach (var batch in setup.TrainLoader.Epoch(position.Epoch, position.Batch).Prefetch(2))
            {
                long stepStart = clock.GetTimestamp();
                float lr = schedule.At(step);
                bool lastOfEpoch = batch.Position.Batch == batchesPerEpoch - 1 || step + 1 == totalSteps;
                var stats = update.Run(batch, step + 1, lr, measureReconstruction: lastOfEpoch);
                step++;
                if (lastOfEpoch) tally.ReconstructionDrift = update.ReconstructionDrift;
                if (budget is not null)
                {
                    budget.AfterStep(step, clock.GetElapsedTime(runStart).TotalSeconds, clock.GetElapsedTime(stepStart).TotalSeconds, lastOfEpoch,
                        () => evaluator.EstimateSeconds(setup.Model, setup.Test, setup.Normalization, TrainingSetup.EvaluationBatchSize));
                    (totalSteps, schedule) = (budget.TotalSteps, budget.Schedule);
                }
                trainSeconds += clock.GetElapsedTime(stepStart).TotalSeconds;
                imagesSeen += batch.Count * ranks.Ranks;
                peakBytes = Math.Max(peakBytes, stats.HeldBeforeBytes + stats.PeakStepBytes);
                tally.Add(stats, batch.Count, ranks.Ranks);
                position = batch.Position.Next(batchesPerEpoch);
                StepCompleted?.Invoke(new StepProgress(step, totalSteps, tally.Epoch, stats.Loss, tally.RunningLoss, tally.RunningAccuracy,
                    imagesSeen / Math.Max(trainSeconds, 1e-9), device.Allocator.BytesInUse, peakBytes, lr));
                if (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0 && step < totalSteps)
                    checkpoints.SaveLast(new TrainingState(step, position.Epoch, position.Batch, epochEnd.BestTestAccuracy));
                if (step >= totalSteps) break;
            }
            var summary = epochEnd.Finish(tally, step, position, peakBytes);
            budget?.EvaluationMeasured(epochEnd.EvaluationSeconds);
            lastAccuracy = summary.TestAccuracy;
            epochs.Add(summary);
            EpochCompleted?.Invoke(summary);
        }
        if (epochs.Count == 0)
        {
            // Nothing left to train (a resumed run that had finished): say so, and report the checkpoint's real accuracy.
            Report($"the run had already finished (step {step} of {totalSteps}): evaluating its checkpoint");
            ranks.AverageBuffers(setup.Store);
            lastAccuracy = evaluator.Evaluate(setup.Model, setup.TestLoader).Accuracy;
        }
        return new TrainResult(setup.ModelName, lastAccuracy, epochEnd.BestTestAccuracy, clock.GetElapsedTime(runStart).TotalSeconds,
            imagesSeen / Math.Max(trainSeconds, 1e-9), peakBytes, step, epochs);
    }

    void Report(string message) => Log?.Invoke(message);
}
