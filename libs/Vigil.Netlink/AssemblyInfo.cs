namespace Vigil.Netlink;
