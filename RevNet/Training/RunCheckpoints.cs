using System.Globalization;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Distributed;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>
/// A run's checkpoints in its output directory: last.safetensors (at every epoch end, and every
/// <see cref="TrainOptions.CheckpointEvery"/> steps) and best.safetensors (the best test accuracy so far), each with
/// the metadata that evaluating, predicting or resuming needs (dataset, class names, input size, normalisation, seed, batch, ranks). Every rank takes part
/// (running statistics are averaged first); rank 0 alone writes.
/// </summary>
public sealed class RunCheckpoints(TrainingSetup setup, DataParallel ranks)
{
    /// <summary>OUTPUT/last.safetensors: the latest checkpoint, for resuming.</summary>
    public string LastPath { get; } = Path.Combine(setup.Options.OutputDirectory, "last.safetensors");

    /// <summary>OUTPUT/best.safetensors: the checkpoint with the best test accuracy so far.</summary>
    public string BestPath { get; } = Path.Combine(setup.Options.OutputDirectory, "best.safetensors");

    /// <summary>Saves the model, optimizer and <paramref name="state"/> to <see cref="LastPath"/> (atomically; rank 0 writes, every rank must call it).</summary>
    public void SaveLast(TrainingState state) => Save(LastPath, state);

    /// <summary>Saves the model, optimizer and <paramref name="state"/> to <see cref="BestPath"/> (atomically; rank 0 writes, every rank must call it).</summary>
    public void SaveBest(TrainingState state) => Save(BestPath, state);

    void Save(string path, TrainingState state)
    {
        ranks.AverageBuffers(setup.Store);
        if (ranks.IsWriter) Checkpoint.Save(path, setup.Model, setup.Optimizer, state, Metadata());
    }

    Dictionary<string, string> Metadata()
    {
        var options = setup.Options;
        var metadata = new Dictionary<string, string>(ClassifierMetadata.Of(setup.DatasetName, setup.Train).ToMetadata().Concat(setup.ModelMetadata))
        {
            ["dataset"] = setup.DatasetName,
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["reconstruct"] = options.Reconstruct.ToString(),
            ["ranks"] = ranks.Ranks.ToString(CultureInfo.InvariantCulture),
            ["sync_bn"] = options.SyncBatchNorm.ToString(),
        };
        setup.Normalization.WriteTo(metadata);
        return metadata;
    }
}
