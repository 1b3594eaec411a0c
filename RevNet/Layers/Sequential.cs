using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>Runs its children in order, releasing each intermediate as soon as the next child has consumed it.</summary>
public sealed class Sequential : Module
{
    readonly List<Module> layers = new();

    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Append(m);
    }

    public IReadOnlyList<Module> Layers => layers;

    public Sequential Append(Module module) => Append(layers.Count.ToString(), module);

    public Sequential Append(string name, Module module)
    {
        layers.Add(Add(name, module));
        return this;
    }

    public override Tensor Forward(Tensor x)
    {
        if (layers.Count == 0) return x.Retain();
        Tensor current = x;
        foreach (var layer in layers)
        {
            var next = layer.Forward(current);
            if (!ReferenceEquals(current, x)) current.Release();
            current = next;
        }
        return current;
    }
}
