using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A run of consecutive reversible blocks. Reconstructing (the default), its forward runs off the tape and
/// records one entry that keeps only the run's output; backward rebuilds each block's input from its output,
/// last block first, freeing everything a block made before moving to the previous one. With
/// <see cref="Reconstruct"/> false the blocks record normally (stored activations: the baseline).
/// </summary>
public sealed class ReversibleSequence : Module
{
    readonly List<ReversibleBlock> blocks = new();
    readonly List<Tensor> trueInputs = new();

    public ReversibleSequence(IEnumerable<ReversibleBlock> blocks)
    {
        foreach (var b in blocks) this.blocks.Add(Add(this.blocks.Count.ToString(), b));
    }

    public IReadOnlyList<ReversibleBlock> Blocks => blocks;

    /// <summary>Rebuild inputs in backward (true) or keep every activation on the tape (false).</summary>
    public bool Reconstruct { get; set; } = true;

    /// <summary>
    /// Diagnostic: keep copies of the true block inputs during forward (costs the memory reconstruction saves)
    /// and compare them with the rebuilt ones in backward; results land in <see cref="ReconstructionErrors"/>.
    /// </summary>
    public bool MeasureReconstruction { get; set; }

    /// <summary>Per block (first to last) of the last measured backward: max|x_rebuilt − x_true| / max|x_true|.</summary>
    public double[] ReconstructionErrors { get; private set; } = [];

    public override Tensor Forward(Tensor x)
    {
        var device = x.Device;
        var tape = device.Tape;
        if (!Reconstruct || !tape.IsRecording || blocks.Count == 0) return RunBlocks(x, measure: false);

        tape.IsRecording = false;
        Tensor y;
        try
        {
            y = RunBlocks(x, MeasureReconstruction && !device.IsMeta);
        }
        finally
        {
            tape.IsRecording = true;
        }
        tape.Record("reversible sequence", y, [x], [y], grads => [BackwardReconstruct(y, grads[0]!)], hasParameters: true);
        return y;
    }

    Tensor RunBlocks(Tensor x, bool measure)
    {
        ReleaseTrueInputs();
        Tensor current = x;
        foreach (var block in blocks)
        {
            if (measure) trueInputs.Add(Functional.Copy(current));
            var next = block.Forward(current);
            if (!ReferenceEquals(current, x)) current.Release();
            current = next;
        }
        return ReferenceEquals(current, x) ? x.Retain() : current;
    }

    Tensor BackwardReconstruct(Tensor y, Tensor gy)
    {
        Tensor output = y, outputGrad = gy;
        var errors = new double[blocks.Count];
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            var (input, inputGrad) = blocks[i].BackwardReconstruct(output, outputGrad);
            if (!ReferenceEquals(output, y)) output.Release();
            if (!ReferenceEquals(outputGrad, gy)) outputGrad.Release();
            if (i < trueInputs.Count) errors[i] = RelativeMaxError(input, trueInputs[i]);
            output = input;
            outputGrad = inputGrad;
        }
        if (!ReferenceEquals(output, y)) output.Release();
        if (trueInputs.Count == blocks.Count) ReconstructionErrors = errors;
        ReleaseTrueInputs();
        return outputGrad;
    }

    void ReleaseTrueInputs()
    {
        foreach (var t in trueInputs) t.Release();
        trueInputs.Clear();
    }

    static double RelativeMaxError(Tensor rebuilt, Tensor truth)
    {
        var a = rebuilt.ToArray();
        var b = truth.ToArray();
        double maxDiff = 0, maxRef = 1e-30;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxDiff / maxRef;
    }
}
