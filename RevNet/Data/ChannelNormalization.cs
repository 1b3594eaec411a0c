using System.Globalization;

namespace RevNetIlgpu.RevNet.Data;

/// <summary>
/// Per-channel standardisation x' = (x - mean[c]) / std[c] over NCHW images. Compute it on the
/// training set and apply the same values to every split.
/// </summary>
public sealed class ChannelNormalization
{
    /// <summary>Uses the given per-channel statistics; every std must be positive.</summary>
    public ChannelNormalization(float[] mean, float[] std)
    {
        if (mean.Length != std.Length || mean.Length == 0)
            throw new ArgumentException($"mean has {mean.Length} channels, std {std.Length}; they must agree and be non-empty");
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException("every std must be positive");
        Mean = mean;
        Std = std;
    }

    /// <summary>Mean of each channel.</summary>
    public float[] Mean { get; }

    /// <summary>Standard deviation of each channel (population, i.e. divided by N).</summary>
    public float[] Std { get; }

    /// <summary>Per-channel mean and std of all pixels of <paramref name="dataset"/>, accumulated in double.</summary>
    public static ChannelNormalization Compute(ImageDataset dataset)
    {
        int channels = dataset.Channels, plane = dataset.Height * dataset.Width;
        var sum = new double[channels];
        var sumOfSquares = new double[channels];
        for (int n = 0; n < dataset.Count; n++)
        {
            var image = dataset.Image(n);
            for (int c = 0; c < channels; c++)
            {
                foreach (float v in image.Slice(c * plane, plane))
                {
                    sum[c] += v;
                    sumOfSquares[c] += (double)v * v;
                }
            }
        }
        double perChannel = (double)dataset.Count * plane;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / perChannel;
            double variance = Math.Max(sumOfSquares[c] / perChannel - m * m, 0);
            mean[c] = (float)m;
            // A constant channel would divide by zero; leave its scale alone instead.
            std[c] = variance > 0 ? (float)Math.Sqrt(variance) : 1f;
        }
        return new ChannelNormalization(mean, std);
    }

    /// <summary>Normalises <paramref name="images"/> ([N, Channels, H, W], N * Channels * planeSize floats) in place.</summary>
    public void Apply(Span<float> images, int planeSize)
    {
        int channels = Mean.Length;
        if (planeSize <= 0 || images.Length % (channels * planeSize) != 0)
            throw new ArgumentException($"{images.Length} floats are not whole images of {channels} x {planeSize}");
        for (int start = 0; start < images.Length; start += planeSize)
        {
            int c = start / planeSize % channels;
            float mean = Mean[c], inverseStd = 1f / Std[c];
            foreach (ref float v in images.Slice(start, planeSize))
                v = (v - mean) * inverseStd;
        }
    }

    /// <summary>A normalised copy of <paramref name="dataset"/>.</summary>
    public ImageDataset Apply(ImageDataset dataset)
    {
        if (dataset.Channels != Mean.Length)
            throw new ArgumentException($"dataset has {dataset.Channels} channels, normalisation {Mean.Length}");
        var images = (float[])dataset.Images.Clone();
        Apply(images, dataset.Height * dataset.Width);
        return new ImageDataset(dataset.Name, images, dataset.Labels, dataset.Channels, dataset.Height, dataset.Width, dataset.ClassCount, dataset.ClassNames);
    }

    /// <summary>Metadata keys under which a checkpoint keeps the normalisation its model was trained with.</summary>
    public const string MeanKey = "normalization_mean", StdKey = "normalization_std";

    /// <summary>Adds this normalisation to a checkpoint's metadata (each value round-trips exactly).</summary>
    public void WriteTo(IDictionary<string, string> metadata)
    {
        metadata[MeanKey] = string.Join(",", Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        metadata[StdKey] = string.Join(",", Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
    }

    /// <summary>The normalisation saved by <see cref="WriteTo"/> in the metadata of the checkpoint at <paramref name="path"/>.</summary>
    public static ChannelNormalization ReadFrom(IReadOnlyDictionary<string, string> metadata, string path)
    {
        try
        {
            float[] Parse(string key) => metadata[key].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return new ChannelNormalization(Parse(MeanKey), Parse(StdKey));
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: checkpoint has no valid normalisation in its metadata ({e.Message})");
        }
    }
}
