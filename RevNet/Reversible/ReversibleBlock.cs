using RevNetIlgpu.Engine;
using RevNetIlgpu.Kernels;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A reversible block (Gomez et al. 2017) on channel halves x1, x2 of x [N,C,H,W]:
/// y1 = couple_F(x1; x2), y2 = couple_G(x2; y1). Its inputs can be rebuilt from its outputs, so a
/// <see cref="ReversibleSequence"/> keeps none of them for backward. Blocks pass the halves to each other as
/// separate tensors; only a sequence's ends split and concatenate channels. With <see cref="Exact"/> set, both couplings
/// run in fixed point and the rebuilt inputs equal the forward's bit for bit.
/// </summary>
public sealed class ReversibleBlock : Module
{
    readonly Coupling f, g;

    /// <summary>A block of two couplings, e.g. user-defined ones; see <see cref="Additive"/> and <see cref="Affine"/> for the usual two.</summary>
    public ReversibleBlock(Coupling f, Coupling g)
    {
        this.f = Add("f", f);
        this.g = Add("g", g);
    }

    /// <summary>The RevNet's additive block: y1 = x1 + F(x2), y2 = x2 + G(y1).</summary>
    public static ReversibleBlock Additive(Module f, Module g) => new(new AdditiveCoupling(f), new AdditiveCoupling(g));

    /// <summary>
    /// An affine block with bounded scales (<see cref="AffineCoupling"/>): y1 = x1 ⊙ sigmoid(Fs(x2) + 2) + Ft(x2), then
    /// y2 = x2 ⊙ sigmoid(Gs(y1) + 2) + Gt(y1).
    /// </summary>
    public static ReversibleBlock Affine(Module fScale, Module fShift, Module gScale, Module gShift) =>
        new(new AffineCoupling(fScale, fShift), new AffineCoupling(gScale, gShift));

    /// <summary>
    /// Null (the default): float32 couplings, whose rebuilt inputs differ from the forward's by rounding. A format: both
    /// couplings in exact fixed-point arithmetic on that grid (the halves must be on it: a <see cref="ReversibleSequence"/>
    /// rounds them where they enter).
    /// </summary>
    public FixedPointFormat? Exact { get; set; }

    /// <summary>The block on a whole tensor: splits (rounding the halves when exact), runs <see cref="ForwardHalvesConsuming"/>, concatenates.</summary>
    public override Tensor Forward(Tensor x)
    {
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        using var run = Exact is null ? null : FixedPointRun.ForForward(x.Device, blocks: 1);
        if (Exact is { } format)
        {
            x1 = Functional.RoundToFixedPointConsuming(x1, format, run!.Flag(0));
            x2 = Functional.RoundToFixedPointConsuming(x2, format, run.Flag(0));
        }
        var (y1, y2) = ForwardHalvesConsuming(x1, x2, run, 0);
        var y = Functional.ConcatChannels(y1, y2);
        y1.Release();
        y2.Release();
        if (run is not null) ReversibleSequence.ThrowIfOverflowed(run, [this]);
        return y;
    }

    /// <summary>
    /// (y1, y2) from halves (x1, x2), which it consumes: where nothing else holds them (the reconstructing forward), y1 is
    /// written into x1's memory and y2 into x2's. Records everything on the tape when it is recording (the stored mode). An
    /// exact block needs the <paramref name="run"/> of its sequence's forward and its first flag slot <paramref name="slot"/>
    /// (<see cref="FixedPointRun.SlotsPerBlock"/> per block); a float block ignores both.
    /// </summary>
    public (Tensor Y1, Tensor Y2) ForwardHalvesConsuming(Tensor x1, Tensor x2, FixedPointRun? run = null, int slot = 0)
    {
        var hf = f.Transform(x2);
        var y1 = Exact is { } format ? f.ApplyExact(x1, hf, format, Require(run), slot + 1) : f.Apply(x1, hf);
        Coupling.Release(hf);
        var hg = g.Transform(y1);
        var y2 = Exact is { } same ? g.ApplyExact(x2, hg, same, Require(run), slot + 2) : g.Apply(x2, hg);
        Coupling.Release(hg);
        return (y1, y2);
    }

    /// <summary>
    /// Rebuilds this block's input halves from its output halves and back-propagates the output gradients: x2 = G⁻¹(y2; y1),
    /// then x1 = F⁻¹(y1; x2), each sub-network run once under a local tape whose result serves both the inversion and the
    /// gradients. Consumes all four arguments (additive couplings overwrite them in place: y2 becomes x2, y1 becomes x1,
    /// and the gradients are accumulated into); returns the owned input halves and their gradients. Parameter gradients
    /// accumulate; batch norm reuses the forward's statistics and leaves running statistics alone. An exact block needs
    /// the <paramref name="run"/> that holds what its forward pushed.
    /// </summary>
    public (Tensor X1, Tensor X2, Tensor GX1, Tensor GX2) BackwardReconstruct(Tensor y1, Tensor y2, Tensor gy1, Tensor gy2, FixedPointRun? run = null)
    {
        using var recompute = new BatchNormStatisticsScope(this, BatchNormStatistics.Kept);
        // y2 = couple_G(x2; y1): rebuild x2, then dL/dx2 (so far) and dL/dy1 (G's part added to what came from later).
        var (x2, gx2, gy1Total) = Exact is { } format
            ? g.InvertAndDifferentiateExact(y2, y1, gy2, gy1, format, Require(run))
            : g.InvertAndDifferentiate(y2, y1, gy2, gy1);
        // y1 = couple_F(x1; x2): rebuild x1, then dL/dx1 and dL/dx2 (F's part added).
        var (x1, gx1, gx2Total) = Exact is { } same
            ? f.InvertAndDifferentiateExact(y1, x2, gy1Total, gx2, same, Require(run))
            : f.InvertAndDifferentiate(y1, x2, gy1Total, gx2);
        return (x1, x2, gx1, gx2Total);
    }

    /// <summary>This block's path in its model ("stage2.rev.1"), read off its parameters' names; "a reversible block" before they are allocated.</summary>
    public string Path
    {
        get
        {
            var (relative, parameter) = NamedParameters().FirstOrDefault();
            string? full = parameter is null ? null : TryName(parameter);
            return full is not null && full.EndsWith(relative, StringComparison.Ordinal) && full.Length > relative.Length
                ? full[..(full.Length - relative.Length - 1)]
                : "a reversible block";
        }
    }

    static string? TryName(Parameter parameter)
    {
        try
        {
            return parameter.Value.Name;
        }
        catch (InvalidOperationException)
        {
            return null; // not allocated yet
        }
    }

    static FixedPointRun Require(FixedPointRun? run) =>
        run ?? throw new InvalidOperationException("an exact reversible block needs the fixed-point run of its forward (run it inside a ReversibleSequence, or through Forward)");
}
