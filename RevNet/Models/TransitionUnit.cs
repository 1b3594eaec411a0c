using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>
/// The first unit of a RevNet stage, which may change resolution or width and so cannot be inverted:
/// y1 = s1(x1) + F(x2), y2 = s2(x2) + G(y1) on channel halves. An ordinary unit: it keeps its activations.
/// </summary>
public sealed class TransitionUnit : Module
{
    readonly Module f, g;
    readonly Shortcut shortcut1, shortcut2;

    public TransitionUnit(Module f, Module g, Shortcut shortcut1, Shortcut shortcut2)
    {
        this.f = Add("f", f);
        this.g = Add("g", g);
        this.shortcut1 = Add("shortcut1", shortcut1);
        this.shortcut2 = Add("shortcut2", shortcut2);
    }

    public override Tensor Forward(Tensor x)
    {
        var (x1, x2) = Functional.SplitChannels(x, x[1] / 2);
        using var fx2 = f.Forward(x2);
        using var s1 = shortcut1.Forward(x1);
        x1.Release();
        using var y1 = Functional.Add(s1, fx2);
        using var gy1 = g.Forward(y1);
        using var s2 = shortcut2.Forward(x2);
        x2.Release();
        using var y2 = Functional.Add(s2, gy1);
        return Functional.ConcatChannels(y1, y2);
    }
}
