namespace Vigil.Netlink.Tests;
