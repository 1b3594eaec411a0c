using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.Tests.Data;

namespace RevNetIlgpu.Tests.Checkpoints;

public class SafeTensorsFuzzTests
{
    private const int Iterations = 10_000;

    private static readonly string[] ExtremeNumbers =
        ["0", "1", "-1", "2147483647", "4294967295", "9223372036854775807", "18446744073709551615", "1e30", "0.5"];

    private static readonly ulong[] ExtremeHeaderLengths =
        [0, 1, 7, 0x7FFFFFFF, 0xFFFFFFFF, 100_000_001, long.MaxValue, ulong.MaxValue];

    [Test]
    public void Read_MutatedFiles_LoadOrThrowInvalidData()
    {
        var valid = new MemoryStream();
        SafeTensorsFile.Write(valid, [SafeTensor.F32("w", [2, 3], [1, 2, 3, 4, 5, 6]), SafeTensor.F32("b", [2], [7, 8]), SafeTensor.I64("step", [], [42])],
            new Dictionary<string, string> { ["epoch"] = "1" });
        var fuzzer = new MutationFuzzer(valid.ToArray(), seed: 30);
        fuzzer.FieldMutations.Add(SetHeaderLength);
        fuzzer.FieldMutations.Add(ReplaceHeaderNumber);

        var (loaded, rejected) = fuzzer.Run(Iterations, bytes => SafeTensorsFile.Read(new MemoryStream(bytes), "fuzz.safetensors"), "safetensors");

        Assert.That(loaded, Is.GreaterThan(0), "data-only mutations still load");
        Assert.That(rejected, Is.GreaterThan(0));
    }

    private static byte[] SetHeaderLength(Random random, byte[] bytes)
    {
        if (bytes.Length >= 8)
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, ExtremeHeaderLengths[random.Next(ExtremeHeaderLengths.Length)]);
        return bytes;
    }

    // Keeps the JSON well-formed but puts an extreme value in a shape or offset, fixing up the
    // header length so the mutation reaches the semantic checks.
    private static byte[] ReplaceHeaderNumber(Random random, byte[] bytes)
    {
        if (bytes.Length < 8)
            return bytes;
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            return bytes;
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        var numbers = Regex.Matches(header, "[0-9]+");
        if (numbers.Count == 0)
            return bytes;
        var target = numbers[random.Next(numbers.Count)];
        string mutated = header[..target.Index] + ExtremeNumbers[random.Next(ExtremeNumbers.Length)] + header[(target.Index + target.Length)..];
        var mutatedBytes = Encoding.UTF8.GetBytes(mutated);
        var result = new byte[8 + mutatedBytes.Length + (bytes.Length - 8 - (int)headerLength)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)mutatedBytes.Length);
        mutatedBytes.CopyTo(result, 8);
        bytes.AsSpan(8 + (int)headerLength).CopyTo(result.AsSpan(8 + mutatedBytes.Length));
        return result;
    }
}
