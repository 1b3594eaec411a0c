using RevNetIlgpu.RevNet.Models;

namespace RevNetIlgpu.RevNet.Training;

/// <summary>Everything a training run is defined by. Defaults: a small RevNet on all of Fashion-MNIST; scripts/train.sh adds the main job's batch, rate and time budget.</summary>
public sealed record TrainOptions
{
    /// <summary>The built-in model to train (<see cref="ModelConfig.All"/>), e.g. "revnet-fmnist"; ignored for a run of a user's own model.</summary>
    public string Model { get; init; } = "revnet-fmnist";

    /// <summary>fashion-mnist, mnist (IDX files), cifar10 or cifar100 (binary version), or folder (an image folder, see <see cref="Data.ImageFolder"/>).</summary>
    public string Dataset { get; init; } = "fashion-mnist";

    /// <summary>Directory of the data files; null = the dataset's default location.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Image size, channels and validation split of <c>folder</c> datasets.</summary>
    public Data.ImageFolderOptions Folder { get; init; } = new();

    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Images per step over all ranks together.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The base learning rate, after the warm-up.</summary>
    public float LearningRate { get; init; } = 0.3f;

    /// <summary>"cosine" or "step" (×0.1 at each of <see cref="Milestones"/>, fractions of all steps; the paper's 40k and 60k of 80k).</summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Where the "step" schedule drops the rate ×0.1, as fractions of all steps.</summary>
    public double[] Milestones { get; init; } = [0.5, 0.75];

    /// <summary>SGD momentum.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>On conv and linear weights only (paper: 2e-4).</summary>
    public float WeightDecay { get; init; } = 2e-4f;

    /// <summary>Seeds the initial weights, the shuffling and the augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>Use only the first N training images (null, the default: all of them).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Evaluate on only the first N test images (null: all).</summary>
    public int? TestLimit { get; init; }

    /// <summary>Stop after this many steps in total (null: run all epochs).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Linear learning-rate warm-up over the first N steps, then the schedule (0: none).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>
    /// Wall-clock budget for training and evaluation in seconds (null: none). The warm-up steps are timed and the
    /// run's step count fixed from them (see <see cref="TimeBudget"/>); needs <see cref="WarmupSteps"/>.
    /// </summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary>Random crops after zero padding (paper: 4); 0 (the default: one short epoch learns faster without) turns them off.</summary>
    public int CropPadding { get; init; }

    /// <summary>Random horizontal flips (paper: on; keep off for digits).</summary>
    public bool Flip { get; init; }

    /// <summary>Rebuild reversible blocks' inputs in backward (true) or store activations (false).</summary>
    public bool Reconstruct { get; init; } = true;

    /// <summary>Also recompute the non-reversible transition units in backward (least memory; one more forward of each).</summary>
    public bool RecomputeTransitions { get; init; }

    /// <summary>Couple reversible blocks in exact fixed point (<see cref="Kernels.FixedPointFormat.Default"/>): rebuilt inputs equal the forward's bit for bit.</summary>
    public bool ExactReconstruction { get; init; }

    /// <summary>The activation-memory mode the two switches above choose.</summary>
    public ActivationMemory Memory =>
        !Reconstruct ? ActivationMemory.Stored : RecomputeTransitions ? ActivationMemory.ReconstructAndRecompute : ActivationMemory.Reconstruct;

    /// <summary>Directory for checkpoints (last.safetensors, best.safetensors), metrics.csv and plots.</summary>
    public string OutputDirectory { get; init; } = "runs/latest";

    /// <summary>Checkpoint to continue from (exactly: weights, momentum, data position).</summary>
    public string? Resume { get; init; }

    /// <summary>Check every recorded op's output for NaN/Inf and name the first bad one (slower; for debugging).</summary>
    public bool CheckEveryOp { get; init; }

    /// <summary>
    /// Across MPI ranks, batch norm reduces its per-channel sums over all ranks in forward and backward, so N ranks compute
    /// what one process computes on the global batch (false: each rank normalises its own slice, as PyTorch DDP does).
    /// </summary>
    public bool SyncBatchNorm { get; init; }

    /// <summary>Also save a checkpoint every this many steps (0: only at epoch ends).</summary>
    public int CheckpointEvery { get; init; }
}
