using System.Security.Cryptography;
using System.Text.Json;

namespace RevNetIlgpu.RevNet.Golden;

/// <summary>One tensor of a golden case: shape, and its values as float32 or int32 (little-endian, C order).</summary>
public sealed record GoldenTensor(string Name, int[] Shape, string DType, string Role, float[]? Floats, int[]? Ints);

/// <summary>
/// A PyTorch-computed reference case: a manifest <c>CASE.json</c> (op, description, params, tensors) and one raw
/// file per tensor, <c>CASE.TENSOR.bin</c>. Every file is checked against the manifest's byte count and SHA-256.
/// </summary>
public sealed class GoldenCase
{
    GoldenCase(string name, string op, JsonElement parameters, IReadOnlyDictionary<string, GoldenTensor> tensors)
    {
        Name = name;
        Op = op;
        Params = parameters;
        Tensors = tensors;
    }

    public string Name { get; }

    public string Op { get; }

    public JsonElement Params { get; }

    public IReadOnlyDictionary<string, GoldenTensor> Tensors { get; }

    public float[] F(string tensor) => Get(tensor).Floats ?? throw new InvalidDataException($"golden case {Name}: tensor {tensor} is not float32");

    public int[] I(string tensor) => Get(tensor).Ints ?? throw new InvalidDataException($"golden case {Name}: tensor {tensor} is not int32");

    public int[] Shape(string tensor) => Get(tensor).Shape;

    public bool Has(string tensor) => Tensors.ContainsKey(tensor);

    public int Int(string param) => Params.GetProperty(param).GetInt32();

    public double Double(string param) => Params.GetProperty(param).GetDouble();

    GoldenTensor Get(string tensor) =>
        Tensors.TryGetValue(tensor, out var t) ? t : throw new InvalidDataException($"golden case {Name}: manifest has no tensor '{tensor}'");

    /// <summary>Every manifest in <paramref name="directory"/> (any *.json with an "op" field), sorted by name.</summary>
    public static IReadOnlyList<string> FindManifests(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"golden directory not found: {directory}");
        return Directory.GetFiles(directory, "*.json")
            .Where(IsManifest)
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();
    }

    static bool IsManifest(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("op", out _);
        }
        catch (JsonException)
        {
            return true; // a broken manifest is reported as a failing case, not silently skipped
        }
    }

    public static GoldenCase Load(string manifestPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        string name = Path.GetFileNameWithoutExtension(manifestPath);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(manifestPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"golden case {name}: manifest is not valid JSON ({e.Message})");
        }
        var root = doc.RootElement;
        string op = root.GetProperty("op").GetString() ?? throw new InvalidDataException($"golden case {name}: op is null");
        var tensors = new Dictionary<string, GoldenTensor>();
        foreach (var entry in root.GetProperty("tensors").EnumerateObject())
        {
            var t = entry.Value;
            string file = Path.Combine(dir, t.GetProperty("file").GetString()!);
            int[] shape = t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            string dtype = t.GetProperty("dtype").GetString()!;
            string role = t.TryGetProperty("role", out var r) ? r.GetString() ?? "" : "";
            long count = shape.Aggregate(1L, (a, d) => a * d);
            if (!File.Exists(file)) throw new InvalidDataException($"golden case {name}: tensor file missing: {file}");
            byte[] bytes = File.ReadAllBytes(file);
            if (bytes.Length != count * 4)
                throw new InvalidDataException($"golden case {name}: {Path.GetFileName(file)} has {bytes.Length} bytes, shape [{string.Join(",", shape)}] needs {count * 4}");
            if (t.TryGetProperty("sha256", out var sha))
            {
                string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (!string.Equals(actual, sha.GetString(), StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException($"golden case {name}: {Path.GetFileName(file)} does not match its SHA-256 in the manifest");
            }
            // The format is little-endian; so are the machines .NET runs this on, so the bytes are the values.
            GoldenTensor tensor = dtype switch
            {
                "float32" => new(entry.Name, shape, dtype, role, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray(), null),
                "int32" => new(entry.Name, shape, dtype, role, null, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes).ToArray()),
                _ => throw new InvalidDataException($"golden case {name}: tensor {entry.Name} has unsupported dtype {dtype}"),
            };
            tensors[entry.Name] = tensor;
        }
        return new GoldenCase(name, op, root.GetProperty("params").Clone(), tensors);
    }
}
