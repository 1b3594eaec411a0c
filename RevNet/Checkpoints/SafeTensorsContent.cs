namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>What a safetensors file holds: its tensors in data order and its string metadata.</summary>
public sealed class SafeTensorsContent
{
    private readonly Dictionary<string, SafeTensor> _byName;

    /// <summary>Wraps tensors (names must be unique) and metadata.</summary>
    public SafeTensorsContent(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name);
    }

    /// <summary>Tensors in the order their data appears in the file.</summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The header's "__metadata__" entries (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming it when absent.</summary>
    public SafeTensor this[string name] =>
        _byName.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"no tensor named '{name}'");

    /// <summary>Whether a tensor named <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);
}
