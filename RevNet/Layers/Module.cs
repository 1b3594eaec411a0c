using RevNetIlgpu.Engine;

namespace RevNetIlgpu.RevNet.Layers;

/// <summary>
/// A network piece with named parameters, buffers and children (names as in PyTorch's state_dict). Subclass it and
/// override <see cref="Forward"/>; register parts with <see cref="Add{T}"/>, <see cref="AddParameter"/> and
/// <see cref="AddBuffer"/> in the constructor. <see cref="Forward"/> borrows its input (the caller still owns it and
/// releases it) and returns a tensor the caller owns (release it with <c>using</c> or <see cref="Tensor.Release"/>).
/// Parameters get memory from <see cref="ParameterStore.Allocate"/>.
/// </summary>
public abstract class Module
{
    readonly List<(string Name, Module Child)> children = new();
    readonly List<(string Name, Parameter Parameter)> parameters = new();

    /// <summary>Training mode: batch statistics in batch norm, running statistics updated.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>The module's output for input <paramref name="x"/> (borrowed); the result is owned by the caller.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>The modules registered with <see cref="Add{T}"/>, with their names.</summary>
    public IReadOnlyList<(string Name, Module Child)> Children => children;

    /// <summary>Switches this module and all below it between training and evaluation mode.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in children) child.Train(training);
    }

    /// <summary>Switches this module and all below it to evaluation mode (running statistics in batch norm).</summary>
    public void Eval() => Train(false);

    /// <summary>
    /// Evaluation until the returned scope is disposed: every module below in evaluation mode and nothing recorded for
    /// backward on <paramref name="device"/> (<c>model.eval()</c> with <c>torch.no_grad()</c>); the scope restores each
    /// module's mode and the tape's recording as they were.
    /// </summary>
    public IDisposable Evaluating(Device device)
    {
        var modes = Modules().Select(m => (Module: m, m.Training)).ToList();
        Eval();
        var noGradient = device.NoGradient();
        return new Restore(() =>
        {
            noGradient.Dispose();
            foreach (var (module, training) in modes) module.Training = training;
        });
    }

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

    /// <summary>The parameter or buffer at <paramref name="path"/> (as <see cref="NamedParameters"/> names it), e.g. "head.3.weight".</summary>
    public Parameter GetParameter(string path) =>
        NamedParameters().FirstOrDefault(p => p.Path == path).Parameter
        ?? throw new ArgumentException($"{GetType().Name} has no parameter or buffer '{path}'");

    /// <summary>
    /// Every persistent parameter and buffer, copied to the host, by state_dict name in declaration order (PyTorch's
    /// <c>state_dict()</c>): what a checkpoint holds. Parameters must be allocated.
    /// </summary>
    public OrderedDictionary<string, StateTensor> StateDict()
    {
        var state = new OrderedDictionary<string, StateTensor>();
        foreach (var (path, p) in NamedParameters().Where(p => p.Parameter.Persistent))
            state.Add(path, new StateTensor(p.Shape, p.Value.ToArray()));
        return state;
    }

    /// <summary>
    /// Copies <paramref name="state"/> into the allocated parameters and buffers (PyTorch's <c>load_state_dict</c>). Every
    /// name and shape is checked before anything is copied, so a mismatch changes nothing: each persistent parameter must
    /// be present, and with <paramref name="strict"/> no other name may be.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, StateTensor> state, bool strict = true)
    {
        var expected = NamedParameters().Where(p => p.Parameter.Persistent).ToList();
        foreach (var (path, p) in expected)
        {
            if (!state.TryGetValue(path, out var t)) throw new InvalidDataException($"state has no tensor '{path}'");
            if (!t.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"tensor '{path}' is [{string.Join(", ", t.Shape)}], the model expects [{string.Join(", ", p.Shape)}]");
        }
        if (strict && state.Keys.Except(expected.Select(p => p.Path)).FirstOrDefault() is { } extra)
            throw new InvalidDataException($"state has a tensor '{extra}' the model does not have");
        foreach (var (path, p) in expected) p.Value.CopyFrom(state[path].Values);
    }

    /// <summary>Registers <paramref name="child"/> under <paramref name="name"/> (its parameters' paths start "name."); returns it.</summary>
    protected T Add<T>(string name, T child) where T : Module
    {
        children.Add((name, child));
        return child;
    }

    /// <summary>Declares a learnable parameter; <paramref name="weightDecay"/> says whether SGD's weight decay applies (conv and linear weights).</summary>
    protected Parameter AddParameter(string name, int[] shape, ParameterInit init, bool weightDecay)
    {
        var p = new Parameter(shape, init, weightDecay, learnable: true, persistent: true);
        parameters.Add((name, p));
        return p;
    }

    /// <summary>Declares a buffer (not learned) starting at <paramref name="value"/>; persistent buffers are checkpointed.</summary>
    protected Parameter AddBuffer(string name, int[] shape, float value, bool persistent = true)
    {
        var p = new Parameter(shape, Parameter.Constant(value), weightDecay: false, learnable: false, persistent);
        parameters.Add((name, p));
        return p;
    }

    sealed class Restore(Action onDispose) : IDisposable
    {
        public void Dispose() => onDispose();
    }
}

/// <summary>One tensor of a <see cref="Module.StateDict"/>: its shape and its values on the host.</summary>
public sealed record StateTensor(int[] Shape, float[] Values);
