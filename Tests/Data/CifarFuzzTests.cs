using NUnit.Framework;
using RevNetIlgpu.RevNet.Data;

namespace RevNetIlgpu.Tests.Data;

public class CifarFuzzTests
{
    private const int Iterations = 10_000;

    [TestCase(10)]
    [TestCase(100)]
    public void ReadBatch_MutatedFiles_LoadOrThrowInvalidData(int classes)
    {
        var valid = OfficialFormatWriter.CifarRecords(classes, [7, 3], (r, p) => (byte)(r + p));
        int recordSize = valid.Length / 2;
        var fuzzer = new MutationFuzzer(valid, seed: classes);
        // Label bytes are where the format's checks live; hit them with extremes directly.
        fuzzer.FieldMutations.Add((random, bytes) =>
        {
            int at = random.Next(2) * recordSize + random.Next(classes == 10 ? 1 : 2);
            if (at < bytes.Length)
                bytes[at] = (byte)MutationFuzzer.ExtremeInt32[random.Next(MutationFuzzer.ExtremeInt32.Length)];
            return bytes;
        });

        var (loaded, rejected) = fuzzer.Run(Iterations, bytes => Cifar.ReadBatch(new MemoryStream(bytes), "batch.bin", classes), $"CIFAR-{classes}");

        Assert.That(loaded, Is.GreaterThan(0), "pixel-only mutations still load");
        Assert.That(rejected, Is.GreaterThan(0), "truncations are rejected");
    }
}
