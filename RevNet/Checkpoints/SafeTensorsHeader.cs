using System.Text.Json;
using System.Text.Unicode;

namespace RevNetIlgpu.RevNet.Checkpoints;

/// <summary>
/// The JSON header of a safetensors file: {"name": {"dtype", "shape", "data_offsets": [begin, end]},
/// ..., "__metadata__": {string: string}}, offsets relative to the start of the data section.
/// </summary>
internal static class SafeTensorsHeader
{
    public const string MetadataKey = "__metadata__";

    /// <summary>Where one tensor's data lies, as the header declares it.</summary>
    public readonly record struct Entry(string Name, SafeTensorDType DType, int[] Shape, long Begin, long End);

    /// <summary>The header for tensors laid out back to back in list order, padded with spaces to a multiple of 8 bytes (the spec's alignment).</summary>
    public static byte[] Serialize(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            var names = new HashSet<string>();
            long offset = 0;
            foreach (var tensor in tensors)
            {
                if (!names.Add(tensor.Name))
                    throw new ArgumentException($"tensor name '{tensor.Name}' occurs twice");
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", tensor.DType.ToString());
                writer.WriteStartArray("shape");
                foreach (int d in tensor.Shape)
                    writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset += tensor.ByteLength);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int padding = (int)(-json.Length & 7);
        for (int i = 0; i < padding; i++)
            json.WriteByte((byte)' ');
        return json.ToArray();
    }

    /// <summary>
    /// Parses and validates a header against a data section of <paramref name="dataLength"/> bytes:
    /// supported dtypes, non-negative shapes whose size matches the offsets, and tensors that tile
    /// the data section exactly (no gap, no overlap). Entries come back in data order.
    /// </summary>
    public static (List<Entry> Entries, Dictionary<string, string> Metadata) Parse(byte[] header, long dataLength, string source)
    {
        // JsonDocument defers UTF-8 checks of strings until they are read; check the whole header now.
        if (!Utf8.IsValid(header))
            throw Malformed(source, "header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Malformed(source, $"header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Malformed(source, $"header is a JSON {root.ValueKind}, not an object");
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>();
            var seen = new HashSet<string>();
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Malformed(source, $"header names '{property.Name}' twice");
                if (property.Name == MetadataKey)
                    ParseMetadata(property.Value, metadata, source);
                else
                    entries.Add(ParseEntry(property.Name, property.Value, dataLength, source));
            }
            CheckTiling(entries, dataLength, source);
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(source, $"{MetadataKey} is a JSON {value.ValueKind}, not an object");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Malformed(source, $"metadata '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Malformed(source, $"metadata '{item.Name}' occurs twice");
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, long dataLength, string source)
    {
        string where = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(source, $"{where} is a JSON {value.ValueKind}, not an object");
        JsonElement dtypeElement = default, shapeElement = default, offsetsElement = default;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": dtypeElement = field.Value; break;
                case "shape": shapeElement = field.Value; break;
                case "data_offsets": offsetsElement = field.Value; break;
                default: throw Malformed(source, $"{where} has unknown field '{field.Name}'");
            }
        }

        string? dtypeName = dtypeElement.ValueKind == JsonValueKind.String ? dtypeElement.GetString() : null;
        if (dtypeName is null || !Enum.GetNames<SafeTensorDType>().Contains(dtypeName))
            throw Malformed(source, $"{where} has dtype {dtypeElement.GetRawTextOrMissing()}; supported: {string.Join(", ", Enum.GetNames<SafeTensorDType>())}");
        var dtype = Enum.Parse<SafeTensorDType>(dtypeName);

        int[] shape = ReadIntegers(shapeElement, where, "shape", source, -1)
            .Select(d => d <= int.MaxValue ? (int)d : throw Malformed(source, $"{where} has shape dimension {d}, above {int.MaxValue}"))
            .ToArray();
        long[] offsets = ReadIntegers(offsetsElement, where, "data_offsets", source, 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end || end > dataLength)
            throw Malformed(source, $"{where} has data_offsets [{begin}, {end}] outside the {dataLength}-byte data section");

        // Multiply with an early exit so a forged shape cannot overflow.
        long elementSize = SafeTensor.ElementSize(dtype), bytes = elementSize;
        foreach (int d in shape)
        {
            bytes *= d;
            if (bytes > end - begin)
                break;
        }
        if (bytes != end - begin)
            throw Malformed(source, $"{where}: shape [{string.Join(", ", shape)}] of {dtype} does not fill data_offsets [{begin}, {end}]");
        if ((end - begin) / elementSize > Array.MaxLength)
            throw Malformed(source, $"{where} has more elements than an array can hold");
        return new Entry(name, dtype, shape, begin, end);
    }

    // A JSON array of non-negative integers, of the given length unless it is -1.
    private static long[] ReadIntegers(JsonElement array, string where, string field, string source, int requiredLength)
    {
        if (array.ValueKind != JsonValueKind.Array || (requiredLength >= 0 && array.GetArrayLength() != requiredLength))
            throw Malformed(source, $"{where} field '{field}' must be an array{(requiredLength >= 0 ? $" of {requiredLength}" : "")} of non-negative integers, got {array.GetRawTextOrMissing()}");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[i]) || values[i] < 0)
                throw Malformed(source, $"{where} field '{field}' has {item.GetRawText()}, not a non-negative integer");
            i++;
        }
        return values;
    }

    private static void CheckTiling(List<Entry> entries, long dataLength, string source)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var entry in entries)
        {
            if (entry.Begin != expected)
                throw Malformed(source, $"tensor '{entry.Name}' starts at {entry.Begin} but the previous data ends at {expected} ({(entry.Begin > expected ? "gap" : "overlap")})");
            expected = entry.End;
        }
        if (expected != dataLength)
            throw Malformed(source, $"tensors cover {expected} bytes but the data section has {dataLength}");
    }

    private static string GetRawTextOrMissing(this JsonElement element) =>
        element.ValueKind == JsonValueKind.Undefined ? "(missing)" : element.GetRawText();

    internal static InvalidDataException Malformed(string source, string problem, Exception? inner = null) =>
        new($"{source}: {problem}", inner);
}
