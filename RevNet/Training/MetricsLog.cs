using System.Globalization;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>metrics.csv: one row per epoch, flushed as written so a crash keeps every finished epoch.</summary>
public sealed class MetricsLog
{
    /// <summary>The CSV header line: one column per <see cref="EpochSummary"/> field (peak memory in MiB).</summary>
    public const string Header = "epoch,step,train_loss,train_acc,test_loss,test_acc,reconstruction_max_rel_error,seconds,images_per_s,peak_mib,lr";

    readonly string path;

    /// <summary>The log at <paramref name="path"/>: started afresh with the header when <paramref name="truncate"/> or when the file does not exist, else appended to (a resumed run).</summary>
    public MetricsLog(string path, bool truncate)
    {
        this.path = path;
        if (truncate || !File.Exists(path)) File.WriteAllText(path, Header + "\n");
    }

    /// <summary>Writes the row of <paramref name="e"/> and flushes it to disk.</summary>
    public void Append(EpochSummary e)
    {
        var inv = CultureInfo.InvariantCulture;
        string row = string.Join(",",
            e.Epoch.ToString(inv), e.Step.ToString(inv), e.TrainLoss.ToString("G6", inv), e.TrainAccuracy.ToString("F4", inv),
            e.TestLoss.ToString("G6", inv), e.TestAccuracy.ToString("F4", inv), e.ReconstructionError.ToString("E3", inv),
            e.Seconds.ToString("F1", inv), e.ImagesPerSecond.ToString("F1", inv), (e.PeakBytes / 1048576.0).ToString("F2", inv),
            e.LearningRate.ToString("G6", inv));
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(row);
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Reads the rows back (for plots).</summary>
    public static IReadOnlyList<Dictionary<string, double>> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        var names = lines[0].Split(',');
        return lines.Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',').Select((v, i) => (names[i], double.Parse(v, CultureInfo.InvariantCulture))).ToDictionary(t => t.Item1, t => t.Item2))
            .ToList();
    }
}
