using Microsoft.Extensions.FileProviders;

namespace Basalt.Server.Hosting;

/// <summary>The hook for the web UI: static files from <c>wwwroot</c> beside the server assembly, served at <c>/</c> when present.</summary>
internal static class WebUi
{
    public static WebApplication UseWebUi(this WebApplication app)
    {
        string root = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!Directory.Exists(root)) return app;
        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        return app;
    }
}
