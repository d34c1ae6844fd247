namespace Vigil.Ipvsd.Tests.Vm;

/// <summary>
/// The ipvsd tests that boot a QEMU VM run one after another: two emulated VMs on two cores
/// next to the other test assemblies starved each other past their time limits in CI.
/// </summary>
[CollectionDefinition(Name)]
public sealed class IpvsVmCollection
{
    public const string Name = "IPVS VM";
}
