using RevNetIlgpu.RevNet.Training;
using ScottPlot;

namespace RevNetIlgpu.Cli;

/// <summary>PNG charts: training curves from metrics.csv, and memory per model from `revnet memory` reports.</summary>
public static class Plots
{
    /// <summary>
    /// Training loss and accuracy per step (each step's loss; accuracy as the running mean of the epoch) with the
    /// test loss and accuracy of each epoch at the step where it was measured, side by side, into one PNG.
    /// </summary>
    public static void TrainingCurves(IReadOnlyList<StepProgress> steps, IReadOnlyList<EpochSummary> epochs, string path)
    {
        double[] stepAxis = steps.Select(p => (double)p.Step).ToArray();
        double[] epochAxis = epochs.Select(e => (double)e.Step).ToArray();
        var multi = new Multiplot();
        multi.AddPlots(2);
        var loss = multi.GetPlot(0);
        loss.Add.ScatterLine(stepAxis, steps.Select(p => (double)p.Loss).ToArray()).LegendText = "train loss (step)";
        loss.Add.ScatterPoints(epochAxis, epochs.Select(e => e.TestLoss).ToArray()).LegendText = "test loss (epoch)";
        loss.Title("loss");
        loss.XLabel("step");
        loss.ShowLegend();
        var accuracy = multi.GetPlot(1);
        accuracy.Add.ScatterLine(stepAxis, steps.Select(p => p.RunningAccuracy).ToArray()).LegendText = "train accuracy (running, epoch)";
        accuracy.Add.ScatterPoints(epochAxis, epochs.Select(e => e.TestAccuracy).ToArray()).LegendText = "test accuracy (epoch)";
        accuracy.Title("top-1 accuracy");
        accuracy.XLabel("step");
        accuracy.ShowLegend();
        multi.SavePng(path, 1000, 500);
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
