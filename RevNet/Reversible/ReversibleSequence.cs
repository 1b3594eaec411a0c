using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A run of consecutive reversible blocks. Reconstructing (the default), its forward runs off the tape and
/// records one entry that keeps only the run's output; backward splits that output and its gradient into halves
/// (releasing both at once), then rebuilds each block's input halves from its output halves, last block first, in
/// place, freeing everything a block made before moving to the previous one. Channels are split once at the start
/// and concatenated once at the end, never between blocks. With <see cref="Reconstruct"/> false the blocks record
/// normally (stored activations: the baseline). With <see cref="Exact"/> set, the halves are rounded to a fixed-point grid
/// where they enter and the blocks couple in exact integer arithmetic, so every rebuilt input equals the forward's bit for
/// bit (and the reconstructing gradients the stored ones), whatever the architecture.
/// </summary>
public sealed class ReversibleSequence : Module
{
    readonly List<ReversibleBlock> blocks = new();
    readonly List<(float[] X1, float[] X2)> trueInputs = new();

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

    /// <summary>The blocks in the order they run (state-dict names "0", "1", ...).</summary>
    public IReadOnlyList<ReversibleBlock> Blocks => blocks;

    /// <summary>Rebuild inputs in backward (true) or keep every activation on the tape (false).</summary>
    public bool Reconstruct { get; set; } = true;

    /// <summary>
    /// The fixed-point format every block couples in (exact reconstruction), or null for float32 couplings (the default).
    /// Setting it sets <see cref="ReversibleBlock.Exact"/> on every block; reading it gives the blocks' format when all share
    /// one, else null. Blocks may also be set one by one: the halves are rounded wherever an exact block follows a float one.
    /// </summary>
    public FixedPointFormat? Exact
    {
        get => blocks.Count > 0 && blocks.All(b => b.Exact == blocks[0].Exact) ? blocks[0].Exact : null;
        set
        {
            foreach (var b in blocks) b.Exact = value;
        }
    }

    /// <summary>
    /// Diagnostic: copy the true block inputs to host memory during forward (a download per block, no device memory) and
    /// compare them with the rebuilt ones in backward; results land in <see cref="ReconstructionErrors"/>.
    /// </summary>
    public bool MeasureReconstruction { get; set; }

    /// <summary>Per block (first to last) of the last measured backward: max|x_rebuilt − x_true| / max|x_true| over both halves.</summary>
    public double[] ReconstructionErrors { get; private set; } = [];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var device = x.Device;
        var tape = device.Tape;
        if (blocks.Count == 0) return x.Retain();
        using var run = blocks.Any(b => b.Exact is not null) ? FixedPointRun.ForForward(device, blocks.Count) : null;
        if (!Reconstruct || !tape.IsRecording) return Checked(RunBlocks(x, measure: false, run), run);

        Tensor y;
        using (new BatchNormStatisticsScope(this, BatchNormStatistics.BatchKeptForRecompute))
            y = Checked(Functional.Unrecorded(device, () => RunBlocks(x, MeasureReconstruction, run)), run);
        // The information exact affine couplings pushed rides with the output to the backward, which pops it again.
        var information = run?.DetachInformation();
        tape.RecordConsuming("reversible sequence", y, [x], information is null ? [y] : [y, information],
            (saved, grads) => [BackwardReconstruct(saved[0], grads[0]!, saved.Length > 1 ? saved[1] : null)], hasParameters: true);
        information?.Release();
        return y;
    }

    /// <summary>y, or (releasing y) the overflow an exact block reported during the forward that made it.</summary>
    Tensor Checked(Tensor y, FixedPointRun? run)
    {
        if (run is null) return y;
        try
        {
            ThrowIfOverflowed(run, blocks);
            return y;
        }
        catch
        {
            y.Release();
            throw;
        }
    }

    /// <summary>Throws <see cref="FixedPointOverflowException"/> naming the first block of <paramref name="blocks"/> whose flag <paramref name="run"/> has set.</summary>
    internal static void ThrowIfOverflowed(FixedPointRun run, IReadOnlyList<ReversibleBlock> blocks)
    {
        if (run.FirstOverflow() is not { } first) return;
        var (slot, code) = first;
        var block = blocks[slot / FixedPointRun.SlotsPerBlock];
        string where = (slot % FixedPointRun.SlotsPerBlock) switch { 0 => "rounding its input", 1 => "coupling F", _ => "coupling G" };
        string what = code == ExactScaleShift.BufferFull
            ? "filled the 64-bit information buffer of its exact affine coupling (scales too far below 1 over too many blocks of one sequence); " +
              "values cannot be rebuilt exactly, so the step stops here. Train without exact reconstruction, or use shorter sequences"
            : $"left the fixed-point range ({block.Exact}) or met NaN; values cannot be rebuilt exactly, so the step stops here. " +
              "Train without exact reconstruction, or use a format with fewer fraction bits (a wider range)";
        throw new FixedPointOverflowException($"exact reconstruction: reversible block {block.Path} ({where}) {what}");
    }

    Tensor RunBlocks(Tensor x, bool measure, FixedPointRun? run)
    {
        trueInputs.Clear();
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        FixedPointFormat? grid = null; // the grid the halves lie on
        for (int i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            int slot = i * FixedPointRun.SlotsPerBlock;
            if (block.Exact is { } format && grid != format)
            {
                x1 = Functional.RoundToFixedPointConsuming(x1, format, run!.Flag(slot));
                x2 = Functional.RoundToFixedPointConsuming(x2, format, run.Flag(slot));
            }
            grid = block.Exact;
            if (measure) trueInputs.Add((x1.ToArray(), x2.ToArray()));
            (x1, x2) = block.ForwardHalvesConsuming(x1, x2, run, slot);
        }
        var y = Functional.ConcatChannels(x1, x2);
        x1.Release();
        x2.Release();
        return y;
    }

    /// <summary>
    /// Consumes the run's output y, its gradient gy and the information exact affine couplings pushed (if any); returns the
    /// owned gradient of the run's input.
    /// </summary>
    Tensor BackwardReconstruct(Tensor y, Tensor gy, Tensor? information)
    {
        var device = y.Device;
        using var run = FixedPointRun.ForInverse(information);
        var (y1, y2) = SplitConsuming(y);
        var (gy1, gy2) = SplitConsuming(gy);
        var errors = new double[blocks.Count];
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            (y1, y2, gy1, gy2) = blocks[i].BackwardReconstruct(y1, y2, gy1, gy2, run);
            if (i < trueInputs.Count) errors[i] = RelativeMaxError((y1, y2), trueInputs[i]);
        }
        y1.Release();
        y2.Release();
        if (trueInputs.Count == blocks.Count) ReconstructionErrors = errors;
        trueInputs.Clear();
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

    static double RelativeMaxError((Tensor X1, Tensor X2) rebuilt, (float[] X1, float[] X2) truth)
    {
        var a = rebuilt.X1.ToArray().Concat(rebuilt.X2.ToArray()).ToArray();
        var b = truth.X1.Concat(truth.X2).ToArray();
        double maxDiff = 0, maxRef = 1e-30;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxDiff / maxRef;
    }
}
