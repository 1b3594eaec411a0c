using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace RevNetIlgpu.RevNet.Export;

/// <summary>
/// Appends nodes and constant tensors to an ONNX <see cref="GraphProto"/> (the protobuf classes of OnnxSharp), naming
/// every value uniquely. Nodes are appended in the order they run, which is the topological order ONNX requires.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    readonly HashSet<string> names = [];

    public GraphProto Graph { get; } = new();

    /// <summary><paramref name="hint"/>, or hint_2, hint_3, ... when taken: every value and node has its own name.</summary>
    public string UniqueName(string hint)
    {
        string name = hint;
        for (int i = 2; !names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    /// <summary>A float32 constant of the given shape (little-endian raw data, as ONNX stores it).</summary>
    public string Floats(string hint, long[] dims, float[] values)
    {
        if (dims.Aggregate(1L, (a, d) => a * d) != values.LongLength)
            throw new ArgumentException($"{hint}: {values.Length} values for shape [{string.Join(",", dims)}]");
        var tensor = new TensorProto
        {
            Name = UniqueName(hint),
            DataType = (int)TensorProto.Types.DataType.Float,
            RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
        };
        tensor.Dims.AddRange(dims);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A 1-D int64 constant (pads, slice bounds).</summary>
    public string Int64s(string hint, params long[] values)
    {
        var tensor = new TensorProto { Name = UniqueName(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Appends a node of the default domain with one output, named after <paramref name="hint"/>; returns that output's name.</summary>
    public string Node(string opType, string hint, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        string output = UniqueName(hint);
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A float32 graph input or output of shape <paramref name="dims"/>, where a string names a symbolic (dynamic) dimension.</summary>
    public static ValueInfoProto FloatTensor(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
