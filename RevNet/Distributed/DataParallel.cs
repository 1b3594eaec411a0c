using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RevNetIlgpu.RevNet.Checkpoints;
using RevNetIlgpu.RevNet.Layers;
using RevNetIlgpu.RevNet.Training;

namespace RevNetIlgpu.RevNet.Distributed;

/// <summary>
/// What the training loop does with the other ranks: every rank holds the whole model and a slice of each batch;
/// gradients are averaged over the one flat gradient buffer, so every rank applies the same SGD step and the
/// parameters stay identical. Device buffers travel through host memory (the path any accelerator supports; a
/// GPU-aware MPI or NCCL could skip the copies). With one rank every method returns at once.
/// </summary>
public sealed class DataParallel(ICommunicator communicator)
{
    /// <summary>True while the buffers are known equal on every rank (no step since the last average or broadcast), so averaging again is skipped: for N not a power of two, (N·a)/N need not give back a.</summary>
    bool buffersEqual;

    /// <summary>The collectives over the job's ranks (borrowed; the caller disposes it).</summary>
    public ICommunicator Communicator { get; } = communicator;

    /// <summary>Rank 0 alone writes checkpoints, metrics, plots and progress.</summary>
    public bool IsWriter => Communicator.Rank == 0;

    /// <summary>Number of ranks in the job.</summary>
    public int Ranks => Communicator.Size;

    /// <summary>Bytes each rank contributes to the gradient all-reduce per step (float32 gradients).</summary>
    public static long GradientBytesPerStep(ParameterStore store) => store.ParameterCount * sizeof(float);

    /// <summary>Fails on every rank when any rank was started with different options or data (a mistyped hostfile line, a stale binary).</summary>
    public void CheckSameSetup(TrainOptions options, int trainCount, int testCount)
    {
        if (Ranks == 1) return;
        string setup = JsonSerializer.Serialize(options) + $"|train={trainCount}|test={testCount}";
        long hash = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(setup)));
        Span<long> low = [hash], high = [hash];
        Communicator.AllReduce(low, ReduceOperation.Min);
        Communicator.AllReduce(high, ReduceOperation.Max);
        if (low[0] != high[0])
            throw new ArgumentException($"the {Ranks} ranks were started with different training options or data (rank {Communicator.Rank}: {setup}); start every rank with the same arguments");
    }

    /// <summary>Replaces every rank's gradients by their mean over the ranks (MPI_Allreduce on the flat buffer, then ÷N).</summary>
    public void AverageGradients(ParameterStore store)
    {
        buffersEqual = false;
        Average(store.Grads);
    }

    /// <summary>
    /// Averages the batch-norm running statistics (all buffers) over the ranks, before each evaluation and checkpoint:
    /// with per-rank statistics each rank's drift from its own slices; with --sync-bn they are already equal and
    /// stay bit for bit what they were (x+x and ÷2 are exact in binary floating point for two ranks).
    /// </summary>
    public void AverageBuffers(ParameterStore store)
    {
        if (buffersEqual) return;
        Average(store.Buffers);
        buffersEqual = true;
    }

    /// <summary>
    /// Makes every rank start from rank 0's parameters, buffers, momentum and position (rank 0 alone reads a --resume
    /// checkpoint, so other machines need no copy of it).
    /// </summary>
    public TrainingState ShareFromRankZero(ParameterStore store, SgdOptimizer optimizer, TrainingState state)
    {
        if (Ranks == 1) return state;
        Broadcast(store.Values);
        Broadcast(store.Buffers);
        Broadcast(optimizer.MomentumBuffer);
        Span<long> position = [state.Step, state.Epoch, state.BatchInEpoch, optimizer.StepCount];
        Span<double> best = [state.BestTestAccuracy];
        Communicator.Broadcast(position, root: 0);
        Communicator.Broadcast(best, root: 0);
        optimizer.StepCount = position[3];
        buffersEqual = true;
        return new TrainingState(position[0], checked((int)position[1]), checked((int)position[2]), best[0]);
    }

    /// <summary>The smallest of the ranks' values: a decision every rank must share (e.g. the step count a time budget fixes from each rank's own clock).</summary>
    public long Min(long value)
    {
        if (Ranks == 1) return value;
        Span<long> values = [value];
        Communicator.AllReduce(values, ReduceOperation.Min);
        return values[0];
    }

    /// <summary>Sums per-rank loss totals and counts (training and evaluation statistics) over the ranks.</summary>
    public (double LossSum, long Correct, long Seen) Sum(double lossSum, long correct, long seen)
    {
        if (Ranks == 1) return (lossSum, correct, seen);
        Span<double> loss = [lossSum];
        Span<long> counts = [correct, seen];
        Communicator.AllReduce(loss, ReduceOperation.Sum);
        Communicator.AllReduce(counts, ReduceOperation.Sum);
        return (loss[0], counts[0], counts[1]);
    }

    void Broadcast(Engine.Tensor tensor)
    {
        var values = tensor.ToArray();
        Communicator.Broadcast(values.AsSpan(), root: 0);
        tensor.CopyFrom(values);
    }

    void Average(Engine.Tensor tensor)
    {
        if (Ranks == 1) return;
        var values = tensor.ToArray();
        Communicator.AllReduce(values.AsSpan(), ReduceOperation.Sum);
        float share = 1f / Ranks;
        for (int i = 0; i < values.Length; i++) values[i] *= share;
        tensor.CopyFrom(values);
    }
}
