using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Reversible;

/// <summary>
/// A reversible block (Gomez et al. 2017) on channel halves x1, x2 of x [N,C,H,W]:
/// y1 = couple_F(x1; x2), y2 = couple_G(x2; y1). Its inputs can be rebuilt from its outputs, so a
/// <see cref="ReversibleSequence"/> keeps none of them for backward. Blocks pass the halves to each other as
/// separate tensors; only a sequence's ends split and concatenate channels.
/// </summary>
public sealed class ReversibleBlock : Module
{
    readonly Coupling f, g;

    /// <summary>A block with the RevNet's additive coupling: y1 = x1 + F(x2), y2 = x2 + G(y1).</summary>
    public ReversibleBlock(Module f, Module g) : this(new AdditiveCoupling(f), new AdditiveCoupling(g)) { }

    public ReversibleBlock(Coupling f, Coupling g)
    {
        this.f = Add("f", f);
        this.g = Add("g", g);
    }

    /// <summary>The block on a whole tensor: splits, runs <see cref="ForwardHalves"/>, concatenates (recorded when the tape is).</summary>
    public override Tensor Forward(Tensor x)
    {
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        var (y1, y2) = ForwardHalves(x1, x2);
        x1.Release();
        x2.Release();
        var y = Functional.ConcatChannels(y1, y2);
        y1.Release();
        y2.Release();
        return y;
    }

    /// <summary>(y1, y2) from borrowed halves (x1, x2); records everything on the tape when it is recording (the stored mode).</summary>
    public (Tensor Y1, Tensor Y2) ForwardHalves(Tensor x1, Tensor x2)
    {
        var hf = f.Transform(x2);
        var y1 = f.Apply(x1, hf);
        Coupling.Release(hf);
        var hg = g.Transform(y1);
        var y2 = g.Apply(x2, hg);
        Coupling.Release(hg);
        return (y1, y2);
    }

    /// <summary>
    /// Rebuilds this block's input halves from its output halves and back-propagates the output gradients: x2 = G⁻¹(y2; y1),
    /// then x1 = F⁻¹(y1; x2), each sub-network run once under a local tape whose result serves both the inversion and the
    /// gradients. Consumes all four arguments (additive couplings overwrite them in place: y2 becomes x2, y1 becomes x1,
    /// and the gradients are accumulated into); returns the owned input halves and their gradients. Parameter gradients
    /// accumulate; batch norm reuses the forward's statistics and leaves running statistics alone.
    /// </summary>
    public (Tensor X1, Tensor X2, Tensor GX1, Tensor GX2) BackwardReconstruct(Tensor y1, Tensor y2, Tensor gy1, Tensor gy2)
    {
        using var recompute = new BatchNormStatisticsScope(this, BatchNormStatistics.Kept);
        // y2 = couple_G(x2; y1): rebuild x2, then dL/dx2 (so far) and G's part of dL/dy1.
        var (x2, gx2, gy1FromG) = g.InvertAndDifferentiate(y2, y1, gy2);
        var gy1Total = Functional.AddConsumingBoth(gy1, gy1FromG);
        // y1 = couple_F(x1; x2): rebuild x1, then dL/dx1 and F's part of dL/dx2.
        var (x1, gx1, gx2FromF) = f.InvertAndDifferentiate(y1, x2, gy1Total);
        return (x1, x2, gx1, Functional.AddConsumingBoth(gx2, gx2FromF));
    }
}
