using RevNetIlgpu.RevNet.Training;
using ScottPlot;

namespace RevNetIlgpu.Cli;

/// <summary>PNG charts: training curves from metrics.csv, and memory per model from `revnet memory` reports.</summary>
public static class Plots
{
    /// <summary>Loss (train, test) and test accuracy per epoch, side by side, into one PNG.</summary>
    public static void TrainingCurves(IReadOnlyList<EpochSummary> epochs, string path)
    {
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        var multi = new Multiplot();
        multi.AddPlots(2);
        var loss = multi.GetPlot(0);
        loss.Add.Scatter(x, epochs.Select(e => e.TrainLoss).ToArray()).LegendText = "train loss";
        loss.Add.Scatter(x, epochs.Select(e => e.TestLoss).ToArray()).LegendText = "test loss";
        loss.Title("loss");
        loss.XLabel("epoch");
        loss.ShowLegend();
        var accuracy = multi.GetPlot(1);
        accuracy.Add.Scatter(x, epochs.Select(e => e.TrainAccuracy).ToArray()).LegendText = "train accuracy";
        accuracy.Add.Scatter(x, epochs.Select(e => e.TestAccuracy).ToArray()).LegendText = "test accuracy";
        accuracy.Title("top-1 accuracy");
        accuracy.XLabel("epoch");
        accuracy.ShowLegend();
        multi.SavePng(path, 1000, 400);
    }

    /// <summary>Grouped bars: peak step memory (MiB) per model, reconstructing vs stored.</summary>
    public static void MemoryBars(IReadOnlyList<MemoryReport> reports, string path, string title)
    {
        var plot = new Plot();
        var models = reports.Select(r => r.Model).Distinct().ToList();
        var modes = reports.Select(r => r.Mode).Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (int m = 0; m < modes.Count; m++)
        {
            var bars = new List<Bar>();
            for (int i = 0; i < models.Count; i++)
            {
                var r = reports.FirstOrDefault(o => o.Model == models[i] && o.Mode == modes[m]);
                if (r is null) continue;
                bars.Add(new Bar { Position = i * (modes.Count + 1) + m, Value = r.PeakStepBytes / 1048576.0, FillColor = palette.GetColor(m) });
            }
            plot.Add.Bars(bars).LegendText = modes[m];
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            models.Select((name, i) => new Tick(i * (modes.Count + 1) + (modes.Count - 1) / 2.0, name)).ToArray());
        plot.YLabel("peak step memory (MiB)");
        plot.Title(title);
        plot.ShowLegend();
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 900, 450);
    }
}
