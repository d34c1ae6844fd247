namespace Vigil.Vrrpd.Tests;
