using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Data;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Models;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Inference;

/// <summary>
/// A checkpoint's model ready to classify images: weights loaded, evaluation mode (running statistics), the training
/// set's normalisation, input size and class names from the checkpoint's metadata. Input images are pixels in [0, 1],
/// [N, Channels, Height, Width]; normalisation is applied here.
/// </summary>
public sealed class TrainedClassifier : IDisposable
{
    readonly Device device;
    readonly ParameterStore store;

    TrainedClassifier(Device device, ResidualNetwork model, ParameterStore store, ChannelNormalization normalization, ClassifierMetadata metadata,
        IReadOnlyDictionary<string, string> checkpointMetadata)
    {
        this.device = device;
        this.store = store;
        Model = model;
        Normalization = normalization;
        Metadata = metadata;
        CheckpointMetadata = checkpointMetadata;
    }

    /// <summary>The network, in evaluation mode, its parameters owned by this classifier.</summary>
    public ResidualNetwork Model { get; }

    /// <summary>The training set's per-channel mean and standard deviation, applied to every input.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>Input size and class names.</summary>
    public ClassifierMetadata Metadata { get; }

    /// <summary>Everything the checkpoint's metadata holds (dataset, options, position).</summary>
    public IReadOnlyDictionary<string, string> CheckpointMetadata { get; }

    /// <summary>Input channels the model expects.</summary>
    public int Channels => Model.Config.InputChannels;

    /// <summary>Loads the checkpoint at <paramref name="path"/> onto <paramref name="device"/> (bad files: one <see cref="InvalidDataException"/> naming it).</summary>
    public static TrainedClassifier Load(Device device, string path)
    {
        var content = Checkpoint.Read(path);
        var config = Checkpoint.ConfigOf(content, path);
        var normalization = ChannelNormalization.ReadFrom(content.Metadata, path);
        if (normalization.Mean.Length != config.InputChannels)
            throw new InvalidDataException($"{path}: normalisation has {normalization.Mean.Length} channels, the model {config.InputChannels}");
        var metadata = ClassifierMetadata.Read(content.Metadata, config.Classes, path);
        var model = new ResidualNetwork(config);
        var store = ParameterStore.Allocate(device, model, seed: 0);
        try
        {
            Checkpoint.Load(content, path, model, optimizer: null);
        }
        catch
        {
            store.Dispose();
            throw;
        }
        model.Eval();
        return new TrainedClassifier(device, model, store, normalization, metadata, content.Metadata);
    }

    /// <summary>The image in <paramref name="path"/> as this model's input: decoded, resized and centre-cropped, [Channels, Height, Width] in [0, 1].</summary>
    public float[] ReadImage(string path) => ImageFile.Decode(path, Channels, Metadata.Height, Metadata.Width);

    /// <summary>Logits [count, classes] of <paramref name="count"/> images in [0, 1], [count, Channels, Height, Width] (not changed), in batches.</summary>
    public float[] Logits(float[] images, int count)
    {
        int imageSize = Channels * Metadata.Height * Metadata.Width, classes = Model.Config.Classes;
        if (images.LongLength != (long)count * imageSize)
            throw new ArgumentException($"{images.Length} floats are not {count} images of {Channels}x{Metadata.Height}x{Metadata.Width}");
        var logits = new float[(long)count * classes];
        var tape = device.Tape;
        bool recording = tape.IsRecording;
        tape.IsRecording = false;
        try
        {
            for (int start = 0; start < count; start += BatchSize)
            {
                int n = Math.Min(BatchSize, count - start);
                var batch = images.AsSpan(start * imageSize, n * imageSize).ToArray();
                Normalization.Apply(batch, Metadata.Height * Metadata.Width);
                using var x = Tensor.FromArray(device, batch, n, Channels, Metadata.Height, Metadata.Width);
                using var y = Model.Forward(x);
                y.ToArray().CopyTo(logits, (long)start * classes);
            }
        }
        finally
        {
            tape.IsRecording = recording;
        }
        return logits;
    }

    /// <summary>Softmax of each row of <paramref name="logits"/> [count, classes], in double for the exponentials.</summary>
    public static float[] Softmax(float[] logits, int classes)
    {
        var probabilities = new float[logits.Length];
        for (int row = 0; row < logits.Length; row += classes)
        {
            var z = logits.AsSpan(row, classes);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float v in z) max = Math.Max(max, v);
            foreach (float v in z) sum += Math.Exp(v - max);
            for (int k = 0; k < classes; k++) probabilities[row + k] = (float)(Math.Exp(z[k] - max) / sum);
        }
        return probabilities;
    }

    /// <summary>Images per forward pass: large enough to amortise launches, small enough for any device.</summary>
    const int BatchSize = 64;

    /// <summary>Frees the model's parameters.</summary>
    public void Dispose() => store.Dispose();
}
