using RevNetIlgpu.Engine;
using RevNetIlgpu.RevNet.Layers;

namespace RevNetIlgpu.RevNet.Models;

/// <summary>An ordinary pre-activation residual unit (the ResNet baseline): y = shortcut(x) + F(x). Keeps its activations.</summary>
public sealed class ResidualUnit : Module
{
    readonly Module branch;
    readonly Shortcut shortcut;

    public ResidualUnit(Module branch, Shortcut shortcut)
    {
        this.branch = Add("f", branch);
        this.shortcut = Add("shortcut", shortcut);
    }

    public override Tensor Forward(Tensor x)
    {
        using var fx = branch.Forward(x);
        using var sx = shortcut.Forward(x);
        return Functional.Add(sx, fx);
    }
}
