using System.Diagnostics;
using System.Globalization;
using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;

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
/// Trains a RevNet/ResNet classifier: SGD with momentum and weight decay, a cosine or step schedule, evaluation
/// every epoch, last and best checkpoints, metrics.csv, a per-epoch reconstruction-drift figure, and a stop with
/// the step named when the loss or any gradient is NaN/Inf (the last good checkpoint stays). With a communicator of
/// N ranks (mpirun), each rank trains on its 1/N slice of every global batch and gradients are averaged
/// (<see cref="DataParallel"/>); rank 0 alone writes files.
/// </summary>
public sealed class Trainer(Device device, TrainOptions options, ICommunicator? communicator = null)
{
    readonly DataParallel ranks = new(communicator ?? new SingleProcess());

    ChannelNormalization? normalization;

    public event Action<StepProgress>? StepCompleted;

    public event Action<EpochSummary>? EpochCompleted;

    /// <summary>Messages for the user (data loaded, resumed from, checkpoint written).</summary>
    public event Action<string>? Log;

    public TrainResult Run()
    {
        Validate(options);
        ValidateSplit(options, ranks.Ranks);
        var (train, test) = LoadData(options);
        ranks.CheckSameSetup(options, train.Count, test.Count);
        var slice = new RankSlice(ranks.Communicator.Rank, ranks.Ranks);
        Log?.Invoke($"data: {train.Name} {train.Count} train / {test.Count} test images, {train.Channels}x{train.Height}x{train.Width}, {train.ClassCount} classes");
        var normalization = ChannelNormalization.Compute(train);
        this.normalization = normalization;
        var augmentation = options.CropPadding > 0 || options.Flip ? new ImageAugmentation(options.CropPadding, options.Flip) : null;
        var trainLoader = BatchLoader.ForTraining(train, options.BatchSize, options.Seed, augmentation, normalization, slice);
        var testLoader = BatchLoader.ForEvaluation(test, EvaluationBatchSize, normalization, slice);
        int batchesPerEpoch = trainLoader.Sampler.BatchesPerEpoch;
        if (batchesPerEpoch == 0) throw new ArgumentException($"batch size {options.BatchSize} is larger than the {train.Count} training images");
        long totalSteps = Math.Min((long)options.Epochs * batchesPerEpoch, options.MaxSteps ?? long.MaxValue);

        var config = ModelConfig.Named(options.Model, train.Channels, train.ClassCount);
        var model = new ResidualNetwork(config) { Memory = options.Memory }.WithExactReconstruction(options.ExactReconstruction ? FixedPointFormat.Default : null);
        if (options.SyncBatchNorm)
            foreach (var norm in model.Modules().OfType<BatchNorm2d>()) norm.SyncAcross = ranks.Communicator;
        using var store = ParameterStore.Allocate(device, model, options.Seed);
        using var sgd = new SgdOptimizer(store, new SgdSettings(options.LearningRate, options.Momentum, options.WeightDecay));
        var schedule = new LearningRateSchedule(options.Schedule, options.LearningRate, totalSteps, options.Milestones, options.WarmupSteps);
        var budget = options.TimeBudgetSeconds is { } budgetSeconds ? new TimeBudget(budgetSeconds, options.WarmupSteps) : null;
        TimeSpan calibrationStart = default;
        double recentStepSeconds = 0;
        Log?.Invoke($"model: {config.Name}, {store.ParameterCount:N0} parameters, {(options.Reconstruct ? "reconstructing" : "stored activations")}{(options.ExactReconstruction ? ", exact couplings" : "")}");

        var state = new TrainingState(0, 0, 0, 0);
        if (options.Resume is { } resume && ranks.IsWriter)
        {
            var content = Checkpoint.Read(resume);
            var saved = Checkpoint.ConfigOf(content, resume);
            if (saved.Name != config.Name || saved.Classes != config.Classes || saved.InputChannels != config.InputChannels)
                throw new InvalidDataException($"{resume}: saved from {saved.Name} ({saved.InputChannels} channels, {saved.Classes} classes), not {config.Name} on {train.Name}");
            state = Checkpoint.Load(content, resume, model, sgd);
            Log?.Invoke($"resumed from {resume} at step {state.Step} (epoch {state.Epoch + 1}, batch {state.BatchInEpoch})");
        }
        state = ranks.ShareFromRankZero(store, sgd, state);
        if (ranks.IsWriter) Directory.CreateDirectory(options.OutputDirectory);
        var metrics = ranks.IsWriter ? new MetricsLog(Path.Combine(options.OutputDirectory, "metrics.csv"), truncate: options.Resume is null) : null;
        device.CheckEveryOp = options.CheckEveryOp;

        var epochs = new List<EpochSummary>();
        var wall = Stopwatch.StartNew();
        double trainSeconds = 0;
        long imagesSeen = 0, peakBytes = 0, step = state.Step;
        double best = state.BestTestAccuracy, lastAccuracy = 0;
        var position = new SamplerPosition(state.Epoch, state.BatchInEpoch);
        if (position.Batch >= batchesPerEpoch) position = new SamplerPosition(position.Epoch + 1, 0);

        while (step < totalSteps && position.Epoch < options.Epochs)
        {
            int epoch = position.Epoch;
            double lossSum = 0;
            long correct = 0, seen = 0;
            double drift = 0;
            var epochClock = Stopwatch.StartNew();
            long epochImages = 0;
            foreach (var batch in trainLoader.Epoch(epoch, position.Batch).Prefetch(2))
            {
                var stepClock = Stopwatch.StartNew();
                float lr = schedule.At(step);
                sgd.Settings = sgd.Settings with { LearningRate = lr };
                bool lastOfEpoch = batch.Position.Batch == batchesPerEpoch - 1 || step + 1 == totalSteps;
                foreach (var r in model.ReversibleSequences) r.MeasureReconstruction = lastOfEpoch;
                StepStatistics stats;
                using (var images = Tensor.FromArray(device, batch.Images, batch.Count, train.Channels, train.Height, train.Width))
                using (var labels = Tensor.FromArray(device, batch.Labels, batch.Count))
                {
                    try
                    {
                        stats = TrainingStep.Run(model, store, images, labels);
                        ranks.AverageGradients(store);
                    }
                    catch (NonFiniteException e) when (options.CheckEveryOp)
                    {
                        throw new NonFiniteException($"step {step + 1}: {e.Message}; weights were not updated. The last good checkpoint is in {options.OutputDirectory}");
                    }
                }
                step++;
                if (!float.IsFinite(stats.Loss)) throw new NonFiniteException($"step {step}: loss is {stats.Loss}; {FirstBadGradient(store)}. The last good checkpoint is in {options.OutputDirectory}");
                ThrowIfGradientsNonFinite(store, step);
                sgd.Step();
                ThrowIfWeightsNonFinite(store, step);
                if (lastOfEpoch) drift = model.ReversibleSequences.SelectMany(r => r.ReconstructionErrors).DefaultIfEmpty(0).Max();
                device.Synchronize();
                if (budget is not null && step == budget.CalibrationStart) calibrationStart = wall.Elapsed;
                if (budget is not null && step == budget.WarmupSteps)
                {
                    double secondsPerStep = (wall.Elapsed - calibrationStart).TotalSeconds / (budget.WarmupSteps - budget.CalibrationStart);
                    double evaluationSeconds = EstimateEvaluationSeconds(model, test, normalization);
                    totalSteps = ranks.Min(budget.ChooseTotalSteps(wall.Elapsed.TotalSeconds, secondsPerStep, evaluationSeconds, batchesPerEpoch, totalSteps));
                    schedule = new LearningRateSchedule(options.Schedule, options.LearningRate, totalSteps, options.Milestones, options.WarmupSteps);
                    Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                        $"time budget {budget.Seconds:F0} s: {secondsPerStep * 1000:F0} ms per step, ~{evaluationSeconds:F1} s per evaluation -> {totalSteps} steps in all ({(double)totalSteps / batchesPerEpoch:F2} epochs); --max-steps {totalSteps} --warmup-steps {budget.WarmupSteps} repeats this run"));
                }
                recentStepSeconds = 0.8 * recentStepSeconds + 0.2 * stepClock.Elapsed.TotalSeconds;
                if (budget is not null && step > budget.WarmupSteps && step < totalSteps
                    && ranks.Min(budget.MustStopEarly(wall.Elapsed.TotalSeconds, recentStepSeconds, lastOfEpoch) ? 0 : 1) == 0)
                {
                    Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                        $"time budget: steps slowed to ~{recentStepSeconds * 1000:F0} ms (calibrated {budget.CalibratedSecondsPerStep * 1000:F0} ms); stopping at step {step} of {totalSteps} to leave time for the evaluation"));
                    totalSteps = step;
                }
                trainSeconds += stepClock.Elapsed.TotalSeconds;
                imagesSeen += batch.Count * ranks.Ranks;
                epochImages += batch.Count * ranks.Ranks;
                peakBytes = Math.Max(peakBytes, stats.HeldBeforeBytes + stats.PeakStepBytes);
                lossSum += stats.Loss * batch.Count;
                correct += stats.Correct;
                seen += batch.Count;
                position = batch.Position.Next(batchesPerEpoch);
                StepCompleted?.Invoke(new StepProgress(step, totalSteps, epoch, stats.Loss, lossSum / seen, (double)correct / seen,
                    imagesSeen / Math.Max(trainSeconds, 1e-9), device.Allocator.BytesInUse, peakBytes, lr));
                if (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0 && step < totalSteps)
                    SaveCheckpoint(LastPath, model, store, sgd, new TrainingState(step, position.Epoch, position.Batch, best));
                if (step >= totalSteps) break;
            }
            ranks.AverageBuffers(store);
            (lossSum, correct, seen) = ranks.Sum(lossSum, correct, seen);
            var (testLoss, testAccuracy) = Evaluate(model, testLoader, train.Channels, train.Height, train.Width);
            lastAccuracy = testAccuracy;
            var summary = new EpochSummary(epoch + 1, step, lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1), testLoss, testAccuracy,
                drift, epochClock.Elapsed.TotalSeconds, epochImages / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9), peakBytes, sgd.Settings.LearningRate);
            epochs.Add(summary);
            metrics?.Append(summary);
            var checkpointState = new TrainingState(step, position.Epoch, position.Batch, Math.Max(best, testAccuracy));
            SaveCheckpoint(LastPath, model, store, sgd, checkpointState);
            if (testAccuracy > best)
            {
                best = testAccuracy;
                SaveCheckpoint(Path.Combine(options.OutputDirectory, "best.safetensors"), model, store, sgd, checkpointState);
            }
            EpochCompleted?.Invoke(summary);
        }
        return new TrainResult(model.Config.Name, lastAccuracy, best, wall.Elapsed.TotalSeconds, imagesSeen / Math.Max(trainSeconds, 1e-9), peakBytes, step, epochs);
    }

    /// <summary>
    /// Wall time of one evaluation of <paramref name="test"/>, from its first batch run twice (the first compiles and
    /// allocates what evaluation alone uses) and scaled to the whole set. Changes no model state.
    /// </summary>
    double EstimateEvaluationSeconds(ResidualNetwork model, ImageDataset test, ChannelNormalization normalization)
    {
        var sample = test.Count > EvaluationBatchSize ? test.Take(EvaluationBatchSize) : test;
        var loader = BatchLoader.ForEvaluation(sample, EvaluationBatchSize, normalization);
        Evaluate(model, loader, test.Channels, test.Height, test.Width);
        var clock = Stopwatch.StartNew();
        Evaluate(model, loader, test.Channels, test.Height, test.Width);
        device.Synchronize();
        return clock.Elapsed.TotalSeconds * test.Count / sample.Count;
    }

    /// <summary>Evaluation batches are large: no gradients are kept, and fewer launches per image make it faster.</summary>
    const int EvaluationBatchSize = 500;

    string LastPath => Path.Combine(options.OutputDirectory, "last.safetensors");

    /// <summary>Every rank takes part (running statistics are averaged first), rank 0 writes.</summary>
    void SaveCheckpoint(string path, ResidualNetwork model, ParameterStore store, SgdOptimizer sgd, TrainingState state)
    {
        ranks.AverageBuffers(store);
        if (ranks.IsWriter) Checkpoint.Save(path, model, sgd, state, Metadata());
    }

    Dictionary<string, string> Metadata() => new()
    {
        ["dataset"] = options.Dataset,
        ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["reconstruct"] = options.Reconstruct.ToString(),
        ["ranks"] = ranks.Ranks.ToString(CultureInfo.InvariantCulture),
        ["sync_bn"] = options.SyncBatchNorm.ToString(),
        ["normalization_mean"] = string.Join(",", normalization!.Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ["normalization_std"] = string.Join(",", normalization!.Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
    };

    /// <summary>The per-channel normalisation a checkpoint's model was trained with (saved in its metadata).</summary>
    public static ChannelNormalization NormalizationOf(IReadOnlyDictionary<string, string> metadata, string path)
    {
        try
        {
            float[] Parse(string key) => metadata[key].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return new ChannelNormalization(Parse("normalization_mean"), Parse("normalization_std"));
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: checkpoint has no valid normalisation in its metadata ({e.Message})");
        }
    }

    /// <summary>Mean loss and top-1 accuracy in evaluation mode (running statistics), nothing recorded.</summary>
    public (double Loss, double Accuracy) Evaluate(ResidualNetwork model, BatchLoader loader, int channels, int height, int width)
    {
        model.Eval();
        var tape = device.Tape;
        tape.IsRecording = false;
        try
        {
            double lossSum = 0;
            long correct = 0, seen = 0;
            foreach (var batch in loader.Epoch(0).Prefetch(2).Where(b => b.Count > 0))
            {
                using var images = Tensor.FromArray(device, batch.Images, batch.Count, channels, height, width);
                using var labels = Tensor.FromArray(device, batch.Labels, batch.Count);
                using var logits = model.Forward(images);
                using var loss = Functional.CrossEntropy(logits, labels);
                correct += Functional.CountCorrect(logits, labels);
                lossSum += loss.ToArray()[0] * batch.Count;
                seen += batch.Count;
            }
            (lossSum, correct, seen) = ranks.Sum(lossSum, correct, seen);
            return (lossSum / Math.Max(seen, 1), (double)correct / Math.Max(seen, 1));
        }
        finally
        {
            tape.IsRecording = true;
            model.Train();
        }
    }

    void ThrowIfGradientsNonFinite(ParameterStore store, long step)
    {
        try
        {
            device.ThrowIfNonFinite(store.Grads, "gradients");
        }
        catch (NonFiniteException)
        {
            throw new NonFiniteException($"step {step}: {FirstBadGradient(store)}; weights were not updated. The last good checkpoint is in {options.OutputDirectory}");
        }
    }

    /// <summary>Finite gradients times a huge learning rate can still overflow a weight; stop before any checkpoint saves it.</summary>
    void ThrowIfWeightsNonFinite(ParameterStore store, long step)
    {
        try
        {
            device.ThrowIfNonFinite(store.Values, "weights");
        }
        catch (NonFiniteException e)
        {
            throw new NonFiniteException($"step {step}: the update made {e.Message}. The last good checkpoint is in {options.OutputDirectory}");
        }
    }

    static string FirstBadGradient(ParameterStore store)
    {
        foreach (var (path, p) in store.Learnable)
            if (p.Value.Grad!.ToArray().Any(v => !float.IsFinite(v))) return $"first non-finite gradient: {path}";
        return "all gradients finite";
    }

    /// <summary>Training and test sets for the options' dataset, cut to the requested sizes.</summary>
    public static (ImageDataset Train, ImageDataset Test) LoadData(TrainOptions options)
    {
        var train = Load(options, train: true);
        if (options.TrainLimit is int n && n < train.Count) train = train.Take(n);
        return (train, LoadTest(options));
    }

    /// <summary>The test set for the options' dataset, cut to <see cref="TrainOptions.TestLimit"/>.</summary>
    public static ImageDataset LoadTest(TrainOptions options)
    {
        var test = Load(options, train: false);
        return options.TestLimit is int m && m < test.Count ? test.Take(m) : test;
    }

    static ImageDataset Load(TrainOptions options, bool train) => options.Dataset.ToLowerInvariant() switch
    {
        "fashion-mnist" or "mnist" => FashionMnist.Load(options.DataDirectory ?? FashionMnist.DefaultDirectory, train),
        "cifar10" => Cifar.Load(Required(options), train, classes: 10),
        "cifar100" => Cifar.Load(Required(options), train, classes: 100),
        _ => throw new ArgumentException($"unknown dataset '{options.Dataset}': expected fashion-mnist, mnist, cifar10 or cifar100"),
    };

    static string Required(TrainOptions options) =>
        options.DataDirectory ?? throw new ArgumentException($"{options.Dataset} cannot be downloaded here: pass --data DIR with the binary files");

    /// <summary>Every rank gets an equal slice of the global batch, and batch norm without --sync-bn needs two samples per rank.</summary>
    static void ValidateSplit(TrainOptions o, int ranks)
    {
        if (o.BatchSize % ranks != 0)
            throw new ArgumentException($"--batch {o.BatchSize} (the global batch) must be a multiple of the {ranks} ranks so each gets an equal slice");
        if (!o.SyncBatchNorm && o.BatchSize / ranks < 2)
            throw new ArgumentException($"--batch {o.BatchSize} over {ranks} ranks leaves {o.BatchSize / ranks} sample per rank; batch norm needs two (or pass --sync-bn)");
    }

    static void Validate(TrainOptions o)
    {
        if (o.BatchSize < 2) throw new ArgumentException($"--batch must be at least 2 (batch norm needs two samples), got {o.BatchSize}");
        if (o.Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {o.Epochs}");
        if (o.WarmupSteps < 0) throw new ArgumentException($"--warmup-steps must not be negative, got {o.WarmupSteps}");
        if (o.TimeBudgetSeconds is not null && o.Resume is not null)
            throw new ArgumentException("--time-budget fixes the step count while warming up, which a resumed run has done: resume with the --max-steps the budget chose");
        if (o.MaxSteps is <= 0) throw new ArgumentException($"--max-steps must be positive, got {o.MaxSteps}");
        if (o.TrainLimit is <= 0 || o.TestLimit is <= 0) throw new ArgumentException("--train-limit and --test-limit must be positive (--train-limit 0: the whole training set)");
        if (o.CropPadding < 0) throw new ArgumentException($"--crop-padding must be non-negative, got {o.CropPadding}");
        if (!(o.Momentum >= 0 && o.Momentum < 1)) throw new ArgumentException($"--momentum must be in [0, 1), got {o.Momentum}");
        if (!(o.WeightDecay >= 0)) throw new ArgumentException($"--weight-decay must be non-negative, got {o.WeightDecay}");
    }
}
