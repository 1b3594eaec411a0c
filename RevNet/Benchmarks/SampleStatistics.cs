namespace RevNetIlgpu.RevNet.Benchmarks;

/// <summary>Median, minimum and maximum of a set of measurements: the median resists the outliers a shared machine adds.</summary>
public sealed record SampleStatistics(double Median, double Min, double Max)
{
    /// <summary>The statistics of <paramref name="samples"/> (at least one); an even count takes the mean of the middle two.</summary>
    public static SampleStatistics Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no samples to summarise");
        int middle = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new SampleStatistics(median, sorted[0], sorted[^1]);
    }
}
