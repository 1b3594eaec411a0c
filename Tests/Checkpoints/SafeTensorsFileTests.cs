using System.Buffers.Binary;
using System.Collections;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using RevNetIlgpu.RevNet.Checkpoints;

namespace RevNetIlgpu.Tests.Checkpoints;

public class SafeTensorsFileTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("safetensors-tests").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static readonly Dictionary<string, string> Metadata = new() { ["epoch"] = "3", ["sampler"] = "3:17" };

    [Test]
    public void Write_ThenRead_RoundTripsTensorsAndMetadata()
    {
        string path = Path.Combine(_directory, "model.safetensors");
        var conv = Enumerable.Range(0, 2 * 3 * 3 * 3).Select(i => i * 0.25f - 3f).ToArray();
        float[] bias = [float.MinValue, -0f, float.Epsilon, float.NaN];

        SafeTensorsFile.Write(path, [("conv.weight", [2, 3, 3, 3], conv), ("conv.bias", [4], bias), ("empty", [0, 5], [])], Metadata);
        var content = SafeTensorsFile.Read(path);

        Assert.That(content.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "conv.weight", "conv.bias", "empty" }), "data order is write order");
        Assert.That(content["conv.weight"].Shape, Is.EqualTo(new[] { 2, 3, 3, 3 }));
        Assert.That(content["conv.weight"].AsF32(), Is.EqualTo(conv));
        Assert.That(content["conv.bias"].AsF32().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(bias.Select(BitConverter.SingleToInt32Bits)), "bit-exact, NaN and -0 included");
        Assert.That(content["empty"].AsF32(), Is.Empty);
        Assert.That(content.Metadata.Where(m => !m.Key.StartsWith("xxh3.")), Is.EquivalentTo(Metadata));
        Assert.That(content.Metadata.Keys.Where(k => k.StartsWith("xxh3.")), Is.EquivalentTo(new[] { "xxh3.conv.weight", "xxh3.conv.bias", "xxh3.empty" }),
            "a checksum per tensor");
    }

    [Test]
    public void Read_AChangedByteInATensorsData_IsAnErrorNamingTheFileAndTheTensor()
    {
        string path = Path.Combine(_directory, "model.safetensors");
        SafeTensorsFile.Write(path, [("a", [3], [1f, 2f, 3f]), ("b", [2, 2], [4f, 5f, 6f, 7f])], Metadata);
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x01; // a low mantissa bit of b[3]: the header still parses, the value is still a plausible float
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path))!;
        Assert.That(error.Message, Does.StartWith(path).And.Contain("tensor 'b' is corrupt"));
    }

    [Test]
    public void Write_ThenRead_RoundTripsI64Counters()
    {
        var stream = new MemoryStream();
        SafeTensorsFile.Write(stream, [SafeTensor.I64("step", [], [long.MaxValue]), SafeTensor.F32("w", [1], [1f])], new Dictionary<string, string>());
        stream.Position = 0;

        var content = SafeTensorsFile.Read(stream, "memory");

        Assert.That(content["step"].AsI64(), Is.EqualTo(new[] { long.MaxValue }));
        Assert.That(content["step"].Shape, Is.Empty, "a scalar has shape []");
        Assert.That(content.Metadata.Keys, Is.EquivalentTo(new[] { "xxh3.step", "xxh3.w" }), "only the checksums");
    }

    [Test]
    public void Write_ProducesAFileThatFollowsTheFormatRules()
    {
        string path = Path.Combine(_directory, "rules.safetensors");
        SafeTensorsFile.Write(path, [("a", [2, 2], [1f, 2f, 3f, 4f]), ("b", [3], [5f, 6f, 7f])], Metadata);
        var bytes = File.ReadAllBytes(path);

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(headerLength % 8, Is.Zero, "header padded to 8-byte alignment");
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        var root = header.RootElement;
        Assert.That(root.GetProperty("__metadata__").GetProperty("sampler").GetString(), Is.EqualTo("3:17"));
        Assert.That(root.GetProperty("a").GetProperty("dtype").GetString(), Is.EqualTo("F32"));
        Assert.That(root.GetProperty("a").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 2, 2 }));
        Assert.That(root.GetProperty("a").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new[] { 0L, 16L }));
        Assert.That(root.GetProperty("b").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new[] { 16L, 28L }));
        Assert.That(bytes.Length, Is.EqualTo(8 + (int)headerLength + 28), "data section holds exactly the tensors");
        Assert.That(BitConverter.ToSingle(bytes, 8 + (int)headerLength + 16), Is.EqualTo(5f), "little-endian float data");
    }

    [Test]
    public void Write_FailingMidway_LeavesThePreviousFileIntact_AndNoTemporary()
    {
        string path = Path.Combine(_directory, "checkpoint.safetensors");
        SafeTensorsFile.Write(path, [("w", [2], [1f, 2f])], Metadata);
        var before = File.ReadAllBytes(path);
        // The header pass succeeds; the source fails while tensor data is being written.
        var failing = new FailingOnSecondPass([SafeTensor.F32("w", [3], [9f, 9f, 9f]), SafeTensor.F32("v", [1], [9f])]);

        Assert.Throws<IOException>(() => SafeTensorsFile.Write(path, failing, Metadata));

        Assert.That(failing.Passes, Is.EqualTo(2), "the failure happened after the header was written");
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_directory), Is.EqualTo(new[] { path }), "the temporary file is removed");
    }

    [Test]
    public void Read_RejectsGapBetweenTensors()
    {
        var error = Assert.Throws<InvalidDataException>(() => ReadHeader("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12));
        Assert.That(error!.Message, Does.StartWith("forged:").And.Contain("gap"));
    }

    [Test]
    public void Read_RejectsOverlappingTensors()
    {
        var error = Assert.Throws<InvalidDataException>(() => ReadHeader("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8));
        Assert.That(error!.Message, Does.Contain("overlap"));
    }

    [Test]
    public void Read_RejectsUnsupportedDtype()
    {
        var error = Assert.Throws<InvalidDataException>(() => ReadHeader("""{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4));
        Assert.That(error!.Message, Does.Contain("\"F16\"").And.Contain("supported: F32, I64"));
    }

    [Test]
    public void Read_RejectsShapeThatDisagreesWithOffsets()
    {
        var error = Assert.Throws<InvalidDataException>(() => ReadHeader("""{"a":{"dtype":"F32","shape":[2147483647,2147483647,4],"data_offsets":[0,8]}}""", 8));
        Assert.That(error!.Message, Does.Contain("does not fill"));
    }

    [Test]
    public void Read_RejectsHeaderLengthBeyondTheFile()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(new MemoryStream(bytes), "huge"));
        Assert.That(error!.Message, Does.StartWith("huge: header length"));
    }

    private static SafeTensorsContent ReadHeader(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return SafeTensorsFile.Read(new MemoryStream(bytes), "forged");
    }

    /// <summary>A tensor list whose second enumeration (the data pass) fails after its first element.</summary>
    private sealed class FailingOnSecondPass(IReadOnlyList<SafeTensor> tensors) : IReadOnlyList<SafeTensor>
    {
        public int Passes { get; private set; }

        public SafeTensor this[int index] => tensors[index];

        public int Count => tensors.Count;

        public IEnumerator<SafeTensor> GetEnumerator()
        {
            Passes++;
            for (int i = 0; i < tensors.Count; i++)
            {
                if (Passes == 2 && i == 1)
                    throw new IOException("simulated failure while writing tensor data");
                yield return tensors[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
