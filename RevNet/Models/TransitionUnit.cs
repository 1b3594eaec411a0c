using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Reversible;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// The first unit of a RevNet stage, which may change resolution or width and so cannot be inverted:
/// y1 = s1(x1) + F(x2), y2 = s2(x2) + G(y1) on channel halves. An ordinary unit: it keeps its activations.
/// </summary>
public sealed class TransitionUnit : Module, IHalvesForward
{
    readonly Module f, g;
    readonly Shortcut shortcut1, shortcut2;

    /// <summary>A unit on channel halves: <paramref name="f"/> and <paramref name="g"/> are the residual functions, <paramref name="shortcut1"/> and <paramref name="shortcut2"/> the halves' identity paths (state-dict names "f", "g", "shortcut1", "shortcut2").</summary>
    public TransitionUnit(Module f, Module g, Shortcut shortcut1, Shortcut shortcut2)
    {
        this.f = Add("f", f);
        this.g = Add("g", g);
        this.shortcut1 = Add("shortcut1", shortcut1);
        this.shortcut2 = Add("shortcut2", shortcut2);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var (y1, y2) = ForwardHalvesConsuming(x.Retain());
        var y = Functional.ConcatChannels(y1, y2);
        y1.Release();
        y2.Release();
        return y;
    }

    /// <summary>
    /// The unit's output as its two channel halves (owned), before concatenation, consuming x (released once split): what a recomputing backward needs, as the
    /// concatenated output would only be a copy of them. Each intermediate is released the moment its last reader has run,
    /// and the shortcut's output is summed into in place when nothing else holds it: this forward is also the rerun inside
    /// a recomputed transition's backward, where whatever it holds at once adds to the step's peak.
    /// </summary>
    public (Tensor Y1, Tensor Y2) ForwardHalvesConsuming(Tensor x)
    {
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        x.Release();
        var s1 = shortcut1.Forward(x1); // first, so x1 is gone (a strided shortcut's output is smaller) while F runs
        x1.Release();
        var fx2 = f.Forward(x2);
        var y1 = Functional.AddConsuming(s1, fx2);
        fx2.Release();
        var gy1 = g.Forward(y1);
        var s2 = shortcut2.Forward(x2);
        x2.Release();
        var y2 = Functional.AddConsuming(s2, gy1);
        gy1.Release();
        return (y1, y2);
    }
}
