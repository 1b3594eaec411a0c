using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A run of consecutive reversible blocks. Reconstructing (the default), its forward runs off the tape and
/// records one entry that keeps only the run's output; backward splits that output and its gradient into halves
/// (releasing both at once), then rebuilds each block's input halves from its output halves, last block first, in
/// place, freeing everything a block made before moving to the previous one. Channels are split once at the start
/// and concatenated once at the end, never between blocks. With <see cref="Reconstruct"/> false the blocks record
/// normally (stored activations: the baseline).
/// </summary>
public sealed class ReversibleSequence : Module
{
    readonly List<ReversibleBlock> blocks = new();
    readonly List<(Tensor X1, Tensor X2)> trueInputs = new();

    /// <summary>
    /// A sequence of <paramref name="blocks"/>. It exists to save memory, so it also switches on
    /// <see cref="Sequential.RecomputeBatchNormRelu"/> in every <see cref="Sequential"/> inside its blocks (the BN-ReLU-conv
    /// runs of F and G then keep only their inputs while the blocks are rebuilt); set it back to keep everything.
    /// </summary>
    public ReversibleSequence(IEnumerable<ReversibleBlock> blocks)
    {
        foreach (var b in blocks) this.blocks.Add(Add(this.blocks.Count.ToString(), b));
        foreach (var s in Modules().OfType<Sequential>()) s.RecomputeBatchNormRelu = true;
    }

    public IReadOnlyList<ReversibleBlock> Blocks => blocks;

    /// <summary>Rebuild inputs in backward (true) or keep every activation on the tape (false).</summary>
    public bool Reconstruct { get; set; } = true;

    /// <summary>
    /// Diagnostic: keep copies of the true block inputs during forward (costs the memory reconstruction saves)
    /// and compare them with the rebuilt ones in backward; results land in <see cref="ReconstructionErrors"/>.
    /// </summary>
    public bool MeasureReconstruction { get; set; }

    /// <summary>Per block (first to last) of the last measured backward: max|x_rebuilt − x_true| / max|x_true| over both halves.</summary>
    public double[] ReconstructionErrors { get; private set; } = [];

    public override Tensor Forward(Tensor x)
    {
        var device = x.Device;
        var tape = device.Tape;
        if (blocks.Count == 0) return x.Retain();
        if (!Reconstruct || !tape.IsRecording) return RunBlocks(x, measure: false);

        Tensor y;
        using (new BatchNormStatisticsScope(this, BatchNormStatistics.BatchKeptForRecompute))
            y = Functional.Unrecorded(device, () => RunBlocks(x, MeasureReconstruction));
        tape.RecordConsuming("reversible sequence", y, [x], [y], (saved, grads) => [BackwardReconstruct(saved[0], grads[0]!)], hasParameters: true);
        return y;
    }

    Tensor RunBlocks(Tensor x, bool measure)
    {
        ReleaseTrueInputs();
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        foreach (var block in blocks)
        {
            if (measure) trueInputs.Add((Functional.Copy(x1), Functional.Copy(x2)));
            var (y1, y2) = block.ForwardHalves(x1, x2);
            x1.Release();
            x2.Release();
            (x1, x2) = (y1, y2);
        }
        var y = Functional.ConcatChannels(x1, x2);
        x1.Release();
        x2.Release();
        return y;
    }

    /// <summary>Consumes the run's output y and its gradient gy; returns the owned gradient of the run's input.</summary>
    Tensor BackwardReconstruct(Tensor y, Tensor gy)
    {
        var device = y.Device;
        var (y1, y2) = SplitConsuming(y);
        var (gy1, gy2) = SplitConsuming(gy);
        var errors = new double[blocks.Count];
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            (y1, y2, gy1, gy2) = blocks[i].BackwardReconstruct(y1, y2, gy1, gy2);
            if (i < trueInputs.Count) errors[i] = RelativeMaxError((y1, y2), trueInputs[i]);
        }
        y1.Release();
        y2.Release();
        if (trueInputs.Count == blocks.Count) ReconstructionErrors = errors;
        ReleaseTrueInputs();
        var gx = Functional.Unrecorded(device, () => Functional.ConcatChannels(gy1, gy2));
        gy1.Release();
        gy2.Release();
        return gx;
    }

    static (Tensor First, Tensor Second) SplitConsuming(Tensor t)
    {
        var halves = Functional.Unrecorded(t.Device, () => Functional.SplitChannels(t, t[1] / 2));
        t.Release();
        return halves;
    }

    void ReleaseTrueInputs()
    {
        foreach (var (x1, x2) in trueInputs)
        {
            x1.Release();
            x2.Release();
        }
        trueInputs.Clear();
    }

    static double RelativeMaxError((Tensor X1, Tensor X2) rebuilt, (Tensor X1, Tensor X2) truth)
    {
        var a = rebuilt.X1.ToArray().Concat(rebuilt.X2.ToArray()).ToArray();
        var b = truth.X1.ToArray().Concat(truth.X2.ToArray()).ToArray();
        double maxDiff = 0, maxRef = 1e-30;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxDiff / maxRef;
    }
}
