namespace Vigil.Ipvsd.Tests;
