from onestop.entry import main

main()
