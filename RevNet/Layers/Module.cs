using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// A network piece with named parameters, buffers and children (names as in PyTorch's state_dict).
/// <see cref="Forward"/> borrows its input and returns a tensor the caller owns.
/// </summary>
public abstract class Module
{
    readonly List<(string Name, Module Child)> children = new();
    readonly List<(string Name, Parameter Parameter)> parameters = new();

    /// <summary>Training mode: batch statistics in batch norm, running statistics updated.</summary>
    public bool Training { get; private set; } = true;

    public abstract Tensor Forward(Tensor x);

    public IReadOnlyList<(string Name, Module Child)> Children => children;

    /// <summary>Switches this module and all below it between training and evaluation mode.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in children) child.Train(training);
    }

    public void Eval() => Train(false);

    /// <summary>This module and every module below it, depth first.</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, child) in children)
            foreach (var m in child.Modules())
                yield return m;
    }

    /// <summary>Every parameter and buffer below this module with its dotted path, e.g. "stage1.0.f.conv1.weight" (a child added
    /// under the empty name adds no path segment: a wrapper that must not change the names of what it wraps).</summary>
    public IEnumerable<(string Path, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in parameters) yield return (prefix + name, p);
        foreach (var (name, child) in children)
            foreach (var item in child.NamedParameters(name.Length == 0 ? prefix : prefix + name + "."))
                yield return item;
    }

    /// <summary>Number of learnable scalars.</summary>
    public long ParameterCount() => NamedParameters().Where(p => p.Parameter.Learnable).Sum(p => p.Parameter.Length);

    protected T Add<T>(string name, T child) where T : Module
    {
        children.Add((name, child));
        return child;
    }

    protected Parameter AddParameter(string name, int[] shape, ParameterInit init, bool weightDecay)
    {
        var p = new Parameter(shape, init, weightDecay, learnable: true, persistent: true);
        parameters.Add((name, p));
        return p;
    }

    protected Parameter AddBuffer(string name, int[] shape, float value, bool persistent = true)
    {
        var p = new Parameter(shape, Parameter.Constant(value), weightDecay: false, learnable: false, persistent);
        parameters.Add((name, p));
        return p;
    }
}
