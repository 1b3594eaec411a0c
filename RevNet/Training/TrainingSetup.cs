using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Distributed;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// Everything a run holds before its first step: the data (cut, normalised with the training set's statistics, batched
/// for this rank), the model, its parameters, the optimizer, the loss, the learning-rate schedule over
/// <see cref="MaxSteps"/>, and where the run starts (step 0, or a --resume checkpoint shared from rank 0). Built from
/// names (<see cref="Create(Device, TrainOptions, DataParallel, Action{string})"/>: a built-in model and dataset, as
/// `revnet train` runs) or from a user's own model and datasets. Bad options are refused before any data is read.
/// Disposing frees the parameters and momentum.
/// </summary>
public sealed class TrainingSetup : IDisposable
{
    readonly bool ownsStore;

    TrainingSetup(TrainOptions options, TrainingModel model, ImageDataset train, ImageDataset test, ChannelNormalization normalization, BatchLoader trainLoader,
        BatchLoader testLoader, ParameterStore store, SgdOptimizer optimizer)
    {
        Options = options;
        ownsStore = model.Parameters is null;
        DatasetName = train.Name;
        ModelName = model.Name;
        ModelMetadata = model.Metadata;
        Loss = model.Loss;
        Train = train;
        Test = test;
        Normalization = normalization;
        TrainLoader = trainLoader;
        TestLoader = testLoader;
        Model = model.Module;
        Store = store;
        Optimizer = optimizer;
        MaxSteps = Math.Min((long)options.Epochs * BatchesPerEpoch, options.MaxSteps ?? long.MaxValue);
        Schedule = new LearningRateSchedule(options.Schedule, options.LearningRate, MaxSteps, options.Milestones, options.WarmupSteps);
    }

    /// <summary>Evaluation batches are large: no gradients are kept, and fewer launches per image make it faster.</summary>
    public const int EvaluationBatchSize = 500;

    /// <summary>The options the run was set up with.</summary>
    public TrainOptions Options { get; }

    /// <summary>The whole training set (every rank loads all of it and draws its slice of each batch).</summary>
    public ImageDataset Train { get; }

    /// <summary>The whole test set.</summary>
    public ImageDataset Test { get; }

    /// <summary>Per-channel statistics of <see cref="Train"/>, applied to every batch and saved with every checkpoint.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>This rank's slices of the shuffled, optionally augmented training batches.</summary>
    public BatchLoader TrainLoader { get; }

    /// <summary>This rank's slices of the test set in batches of <see cref="EvaluationBatchSize"/>.</summary>
    public BatchLoader TestLoader { get; }

    /// <summary>Training steps per epoch.</summary>
    public int BatchesPerEpoch => TrainLoader.Sampler.BatchesPerEpoch;

    /// <summary>Steps the run takes at most: all its epochs, or fewer with --max-steps (a time budget may choose fewer still).</summary>
    public long MaxSteps { get; }

    /// <summary>The learning rates over <see cref="MaxSteps"/> steps.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>The network being trained.</summary>
    public Module Model { get; }

    /// <summary>The data's name in checkpoint metadata: the dataset `revnet eval` reloads for a built-in run, else the training set's name.</summary>
    public string DatasetName { get; private set; }

    /// <summary>The model's name in logs, results and checkpoint metadata (a built-in model's config name).</summary>
    public string ModelName { get; }

    /// <summary>What the checkpoints say about the model (a built-in model's configuration; a custom model's name).</summary>
    public IReadOnlyDictionary<string, string> ModelMetadata { get; }

    /// <summary>The training loss (mean cross-entropy unless the run was given another).</summary>
    public LossFunction Loss { get; }

    /// <summary>The model's parameters, gradients and buffers (freed with the setup when it allocated them).</summary>
    public ParameterStore Store { get; }

    /// <summary>The optimizer, its momentum restored when resuming.</summary>
    public SgdOptimizer Optimizer { get; }

    /// <summary>Where the run starts: step 0, or the position, momentum and best accuracy of a resumed checkpoint (the same on every rank).</summary>
    public TrainingState Start { get; private set; } = new(0, 0, 0, 0);

    /// <summary>
    /// Checks the options, loads the named dataset and builds the named built-in model (<see cref="TrainOptions.Model"/>,
    /// <see cref="TrainOptions.Dataset"/>) on <paramref name="device"/>, as `revnet train` does; then as
    /// <see cref="Create(Device, TrainOptions, TrainingModel, ImageDataset, ImageDataset, DataParallel, Action{string})"/>.
    /// </summary>
    /// <param name="device">Where the model trains.</param>
    /// <param name="options">The run's options: model and dataset names, hyperparameters, limits.</param>
    /// <param name="ranks">The ranks the batches are split over.</param>
    /// <param name="log">Receives the "data: …", "model: …" and "resumed from …" lines.</param>
    public static TrainingSetup Create(Device device, TrainOptions options, DataParallel ranks, Action<string> log)
    {
        Validate(options);
        ValidateSplit(options, ranks.Ranks);
        var train = DatasetCatalog.Load(options.Dataset, options.DataDirectory, train: true, options.TrainLimit, options.Folder);
        var test = DatasetCatalog.Load(options.Dataset, options.DataDirectory, train: false, options.TestLimit, options.Folder);
        var config = ModelConfig.Named(options.Model, train.Channels, train.ClassCount);
        var model = new ResidualNetwork(config) { Memory = options.Memory }.WithExactReconstruction(options.ExactReconstruction ? FixedPointFormat.Default : null);
        var setup = Create(device, options, TrainingModel.Of(model), train, test, ranks, log);
        setup.DatasetName = options.Dataset;
        return setup;
    }

    /// <summary>
    /// Checks the options and sets up a run of <paramref name="model"/> on <paramref name="train"/> (evaluated on
    /// <paramref name="test"/>): allocates its parameters on <paramref name="device"/> (seeded by <see cref="TrainOptions.Seed"/>),
    /// the optimizer, the schedule; with <see cref="TrainOptions.Resume"/>, rank 0 loads the checkpoint and every rank
    /// starts from it. The options naming a built-in model and dataset are not used.
    /// </summary>
    public static TrainingSetup Create(Device device, TrainOptions options, TrainingModel model, ImageDataset train, ImageDataset test, DataParallel ranks,
        Action<string> log)
    {
        Validate(options);
        ValidateSplit(options, ranks.Ranks);
        ranks.CheckSameSetup(options, train.Count, test.Count);
        var slice = new RankSlice(ranks.Communicator.Rank, ranks.Ranks);
        log($"data: {train.Name} {train.Count} train / {test.Count} test images, {train.Channels}x{train.Height}x{train.Width}, {train.ClassCount} classes");
        var normalization = ChannelNormalization.Compute(train);
        var augmentation = options.CropPadding > 0 || options.Flip ? new ImageAugmentation(options.CropPadding, options.Flip) : null;
        var trainLoader = BatchLoader.ForTraining(train, options.BatchSize, options.Seed, augmentation, normalization, slice);
        var testLoader = BatchLoader.ForEvaluation(test, EvaluationBatchSize, normalization, slice);
        if (trainLoader.Sampler.BatchesPerEpoch == 0) throw new ArgumentException($"batch size {options.BatchSize} is larger than the {train.Count} training images");

        if (options.SyncBatchNorm)
            foreach (var norm in model.Module.Modules().OfType<BatchNorm2d>()) norm.SyncAcross = ranks.Communicator;
        if (model.Parameters is { } given && given.Values.Device != device)
            throw new ArgumentException($"the model's parameters live on {given.Values.Device.Name}, the run on {device.Name}");
        var store = model.Parameters ?? ParameterStore.Allocate(device, model.Module, options.Seed);
        SgdOptimizer? optimizer = null;
        try
        {
            optimizer = new SgdOptimizer(store, new SgdSettings(options.LearningRate, options.Momentum, options.WeightDecay));
            var setup = new TrainingSetup(options, model, train, test, normalization, trainLoader, testLoader, store, optimizer);
            bool reconstructs = model.Module.Modules().OfType<ReversibleSequence>().Any(r => r.Reconstruct);
            log($"model: {model.Name}, {store.ParameterCount:N0} parameters, {(reconstructs ? "reconstructing" : "stored activations")}{(options.ExactReconstruction ? ", exact couplings" : "")}");
            setup.Start = ranks.ShareFromRankZero(store, optimizer, ranks.IsWriter ? setup.Resume(log) : setup.Start);
            return setup;
        }
        catch
        {
            optimizer?.Dispose();
            if (model.Parameters is null) store.Dispose();
            throw;
        }
    }

    /// <summary>Loads the --resume checkpoint into the model and optimizer after checking it was saved from the same model.</summary>
    TrainingState Resume(Action<string> log)
    {
        if (Options.Resume is not { } path) return Start;
        var content = Checkpoint.Read(path);
        foreach (var (key, value) in ModelMetadata)
            if (content.Metadata.GetValueOrDefault(key) is { } saved && saved != value)
                throw new InvalidDataException($"{path}: saved with {key} {saved}, this run's model has {value} (not {ModelName} on {Train.Name})");
        var state = Checkpoint.Load(content, path, Model, Optimizer);
        log($"resumed from {path} at step {state.Step} (epoch {state.Epoch + 1}, batch {state.BatchInEpoch})");
        return state;
    }

    /// <summary>Frees the momentum, and the parameters unless the caller allocated them.</summary>
    public void Dispose()
    {
        Optimizer.Dispose();
        if (ownsStore) Store.Dispose();
    }

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
        if (o.TimeBudgetSeconds is { } seconds) TimeBudget.Validate(seconds, o.WarmupSteps);
        if (o.MaxSteps is <= 0) throw new ArgumentException($"--max-steps must be positive, got {o.MaxSteps}");
        if (o.TrainLimit is <= 0 || o.TestLimit is <= 0) throw new ArgumentException("--train-limit and --test-limit must be positive (--train-limit 0: the whole training set)");
        if (o.CropPadding < 0) throw new ArgumentException($"--crop-padding must be non-negative, got {o.CropPadding}");
        if (!(o.Momentum >= 0 && o.Momentum < 1)) throw new ArgumentException($"--momentum must be in [0, 1), got {o.Momentum}");
        if (!(o.WeightDecay >= 0)) throw new ArgumentException($"--weight-decay must be non-negative, got {o.WeightDecay}");
    }
}
