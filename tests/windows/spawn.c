/* Starts each command line of a UTF-8 file, one per line, exactly as written (CreateProcessW, as
   Rust's std::process::Command does), waits for it and prints "EXIT=<code>" after its output.
   A line "FOLDER<TAB>COMMAND" starts COMMAND in FOLDER (as Command::current_dir does).
   For the tests; built with x86_64-w64-mingw32-gcc. */
#include <windows.h>
#include <stdio.h>

int wmain(int argc, wchar_t **argv) {
    if (argc != 2) return 2;
    FILE *file = _wfopen(argv[1], L"rb");
    if (!file) return 2;
    static char line[65536];
    static wchar_t wide[65536];
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line) continue;
        MultiByteToWideChar(CP_UTF8, 0, line, -1, wide, 65536);
        wchar_t *command = wide, *folder = NULL, *tab = wcschr(wide, L'\t');
        if (tab) {
            *tab = 0;
            folder = wide;
            command = tab + 1;
        }
        STARTUPINFOW start = {sizeof start};
        PROCESS_INFORMATION process;
        DWORD code = 9999, done;
        if (CreateProcessW(NULL, command, NULL, NULL, TRUE, 0, NULL, folder, &start, &process)) {
            WaitForSingleObject(process.hProcess, INFINITE);
            GetExitCodeProcess(process.hProcess, &code);
            CloseHandle(process.hProcess);
            CloseHandle(process.hThread);
        }
        char text[32];
        int size = snprintf(text, sizeof text, "EXIT=%lu\n", (unsigned long)code);
        WriteFile(out, text, (DWORD)size, &done, NULL);
    }
    return 0;
}
