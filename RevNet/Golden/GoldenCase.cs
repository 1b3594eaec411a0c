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

    /// <summary>The case's name: its manifest's file name without .json.</summary>
    public string Name { get; }

    /// <summary>The op the case checks, as <see cref="GoldenRunner"/> names it.</summary>
    public string Op { get; }

    /// <summary>The op's parameters from the manifest (sizes, eps, tolerances, ...).</summary>
    public JsonElement Params { get; }

    /// <summary>The case's tensors by name, loaded and checked.</summary>
    public IReadOnlyDictionary<string, GoldenTensor> Tensors { get; }

    /// <summary>The float32 values of <paramref name="tensor"/>; <see cref="InvalidDataException"/> if it is missing or int32.</summary>
    public float[] F(string tensor) => Get(tensor).Floats ?? throw new InvalidDataException($"golden case {Name}: tensor {tensor} is not float32");

    /// <summary>The int32 values of <paramref name="tensor"/>; <see cref="InvalidDataException"/> if it is missing or float32.</summary>
    public int[] I(string tensor) => Get(tensor).Ints ?? throw new InvalidDataException($"golden case {Name}: tensor {tensor} is not int32");

    /// <summary>The shape of <paramref name="tensor"/>; <see cref="InvalidDataException"/> if it is missing.</summary>
    public int[] Shape(string tensor) => Get(tensor).Shape;

    /// <summary>Whether the manifest lists <paramref name="tensor"/>.</summary>
    public bool Has(string tensor) => Tensors.ContainsKey(tensor);

    /// <summary>The integer parameter <paramref name="param"/>.</summary>
    public int Int(string param) => Params.GetProperty(param).GetInt32();

    /// <summary>The number parameter <paramref name="param"/>.</summary>
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

    /// <summary>Reads the manifest at <paramref name="manifestPath"/> and every tensor file beside it.</summary>
    /// <exception cref="InvalidDataException">The manifest is not valid, or a file's size or SHA-256 differs from it.</exception>
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
