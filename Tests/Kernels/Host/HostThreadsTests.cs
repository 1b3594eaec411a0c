using NUnit.Framework;
using RevNetIlgpu.Kernels.Host;

namespace RevNetIlgpu.Tests.Kernels.Host;

/// <summary>HostThreads.For: every item once, exceptions as thrown, nesting and concurrent callers, on 1 to 3 threads.</summary>
public class HostThreadsTests
{
    int savedCount;

    [SetUp]
    public void SaveCount() => savedCount = HostThreads.Count;

    [TearDown]
    public void RestoreCount() => HostThreads.Count = savedCount;

    [Test]
    public void For_RunsEveryItemExactlyOnce([Values(1, 2, 3)] int threads, [Values(0, 1, 2, 7, 1001)] int items)
    {
        HostThreads.Count = threads;
        for (int round = 0; round < 50; round++)
        {
            var hits = new int[items];
            HostThreads.For(items, i => Interlocked.Increment(ref hits[i]));
            Assert.That(hits, Is.All.EqualTo(1), $"round {round}");
        }
    }

    [Test]
    public void For_RethrowsTheBodysException_AsThrown([Values(1, 2)] int threads)
    {
        HostThreads.Count = threads;
        var e = Assert.Throws<InvalidOperationException>(() => HostThreads.For(64, i =>
        {
            if (i == 5) throw new InvalidOperationException("item 5");
        }));
        Assert.That(e!.Message, Is.EqualTo("item 5"));
    }

    [Test]
    public void For_Nested_Completes()
    {
        HostThreads.Count = 2;
        var hits = new int[16 * 16];
        HostThreads.For(16, outer => HostThreads.For(16, inner => Interlocked.Increment(ref hits[outer * 16 + inner])));
        Assert.That(hits, Is.All.EqualTo(1));
    }

    [Test]
    public void For_FromTwoThreadsAtOnce_RunsEveryItemExactlyOnce()
    {
        // One call owns the helper threads; the other, made meanwhile, takes thread-pool helpers.
        HostThreads.Count = 2;
        var hits = new int[2, 500];
        using var start = new Barrier(2);
        var callers = Enumerable.Range(0, 2).Select(caller => new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 50; round++)
                HostThreads.For(10, i => Interlocked.Increment(ref hits[caller, round * 10 + i]));
        })).ToArray();
        foreach (var thread in callers) thread.Start();
        foreach (var thread in callers) thread.Join();
        Assert.That(hits, Is.All.EqualTo(1));
    }

    [Test]
    public void For_UsesMoreThanOneThread_WhenItemsWait()
    {
        HostThreads.Count = 2;
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        HostThreads.For(8, _ =>
        {
            threads[Environment.CurrentManagedThreadId] = true;
            Thread.Sleep(20);
        });
        Assert.That(threads.Count, Is.EqualTo(2));
    }
}
